package baseline

import (
	"cmp"
	"errors"
	"slices"
	"strconv"
	"strings"

	"procq/api"
	"procq/expr"
	"procq/record"
)

// This file holds the request semantics the baselines share, written
// without procq's indexes: expressions matched one record at a time, the
// filters that follow them, and the sort order of SPEC section 6.

// exprMatcher matches records against an expression_scope compiled by
// api.ParseRequest.
type exprMatcher struct {
	env      string
	names    [4]*expr.Pattern // set, module, service instance, process
	pid      *expr.Pattern    // nil when bk_process_id is a slice
	slice    *expr.Slice
	needsPID bool
}

// errNotCompiled is the error of a query that api.ParseRequest did not make.
var errNotCompiled = errors.New("expression_scope not compiled: the query must come from api.ParseRequest")

// matcherOf returns the matcher of x's compiled expressions.
func matcherOf(x *api.ExprScope) (*exprMatcher, error) {
	c := x.Compiled
	if c == nil {
		return nil, errNotCompiled
	}
	m := &exprMatcher{
		env:   x.Env,
		names: [4]*expr.Pattern{c.SetName, c.ModuleName, c.ServiceInstanceName, c.ProcessName},
		pid:   c.ProcessID,
		slice: c.Slice,
	}
	m.needsPID = m.pid != nil && !m.pid.MatchesAll()
	return m, nil
}

// envOK reports whether a record of environment env is in the scope.
func envOK(want, env string) bool { return want == "0" || want == env }

// match reports whether a record with these names and id matches the four
// name expressions and the bk_process_id pattern (not the env).
func (m *exprMatcher) match(setName, moduleName, serviceName, processName string, pid int64) bool {
	for i, s := range [4]string{setName, moduleName, serviceName, processName} {
		if !m.names[i].Match(s) {
			return false
		}
	}
	if m.needsPID {
		var buf [20]byte
		return m.pid.Match(string(strconv.AppendInt(buf[:0], pid, 10)))
	}
	return true
}

// sliceIDs applies the slice, if any, to ids sorted ascending.
func (m *exprMatcher) sliceIDs(ids []int64) []int64 {
	if m.slice == nil {
		return ids
	}
	start, end := m.slice.Bounds(len(ids))
	return ids[start:end]
}

// in reports whether list is empty (no filter) or holds v.
func in[T comparable](list []T, v T) bool {
	return len(list) == 0 || slices.Contains(list, v)
}

// restOK applies the filters that follow the scope or expression: cloud
// ids, IPs, statuses, is_auto and the searches.
func restOK(q *api.Query, cloudID int64, ip, cloudName string, status int64, isAuto bool) bool {
	if !in(q.CloudIDs, cloudID) || !in(q.InnerIPs, ip) || !in(q.Status, status) ||
		!in(q.StatusList, status) || !in(q.IsAuto, isAuto) || !in(q.IsAutoList, isAuto) {
		return false
	}
	for _, t := range q.Searches {
		if !strings.Contains(ip, t) && !strings.Contains(cloudName, t) {
			return false
		}
	}
	return true
}

// sortRow holds the values a result is ordered by.
type sortRow struct {
	id, setID, moduleID, pid int64
	processName              string
	ipKey                    string // ipSortKey(bk_host_innerip), when ordered by it
}

// needsIPKey reports whether keys order by bk_host_innerip.
func needsIPKey(keys []api.OrderKey) bool {
	return slices.ContainsFunc(keys, func(k api.OrderKey) bool { return k.Field == record.FieldInnerIP })
}

// rowOf returns the sort values of r; withIP computes the address key.
func rowOf(r *record.Record, withIP bool) sortRow {
	row := sortRow{id: r.ID, setID: r.SetID, moduleID: r.ModuleID, pid: r.ProcessID, processName: r.ProcessName}
	if withIP {
		row.ipKey = ipSortKey(r.InnerIP)
	}
	return row
}

// compareRows orders two rows by the request's keys, ties by ascending
// bk_process_id.
func compareRows(keys []api.OrderKey, a, b *sortRow) int {
	for _, k := range keys {
		var c int
		switch k.Field {
		case record.FieldID:
			c = cmp.Compare(a.id, b.id)
		case record.FieldSetID:
			c = cmp.Compare(a.setID, b.setID)
		case record.FieldModuleID:
			c = cmp.Compare(a.moduleID, b.moduleID)
		case record.FieldProcessName:
			c = strings.Compare(a.processName, b.processName)
		case record.FieldProcessID:
			c = cmp.Compare(a.pid, b.pid)
		case record.FieldInnerIP:
			c = strings.Compare(a.ipKey, b.ipKey)
		}
		if k.Desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return cmp.Compare(a.pid, b.pid)
}

// pageOf returns the ids of rows[off:off+limit], rows already sorted.
func pageOf(rows []sortRow, off uint64, limit int) []int64 {
	if off >= uint64(len(rows)) {
		return []int64{}
	}
	end := min(uint64(len(rows)), off+uint64(limit))
	ids := make([]int64, 0, end-off)
	for _, r := range rows[off:end] {
		ids = append(ids, r.pid)
	}
	return ids
}

// ipSortKey maps bk_host_innerip to a string whose byte order is the
// order of SPEC section 6: "0" and eight hex digits for an IPv4 address
// (four decimal octets 0-255 without leading zeros), "1" and the text for
// any other non-empty value, "2" for the empty string. SQLite stores it as
// the ip_key column.
func ipSortKey(ip string) string {
	if ip == "" {
		return "2"
	}
	if v, ok := ipv4(ip); ok {
		const hex = "0123456789abcdef"
		b := [9]byte{'0'}
		for i := range 8 {
			b[1+i] = hex[v>>(28-4*i)&0xf]
		}
		return string(b[:])
	}
	return "1" + ip
}

// ipv4 parses four dot-separated decimal octets 0-255 without leading
// zeros.
func ipv4(s string) (uint32, bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return 0, false
	}
	var v uint32
	for _, p := range parts {
		if p == "" || len(p) > 3 || (len(p) > 1 && p[0] == '0') {
			return 0, false
		}
		n := 0
		for _, c := range []byte(p) {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		if n > 255 {
			return 0, false
		}
		v = v<<8 | uint32(n)
	}
	return v, true
}
