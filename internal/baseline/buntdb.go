package baseline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/tidwall/buntdb"
	"github.com/tidwall/gjson"

	"github.com/procq/procq/api"
	"github.com/procq/procq/internal/match"
	"github.com/procq/procq/record"
)

// Buntdb answers requests from a buntdb key/value store in memory, as a
// Go service embedding it would: each record is stored as its JSON list
// item under a key holding its zero-padded bk_process_id, with secondary
// indexes (buntdb.IndexJSON) on the selective filter fields. The indexed
// and filtered fields lead the stored object, so neither the indexes nor
// a query read further into it. A query walks one index with AscendEqual
// (the most selective filter the request has: process ids, service
// instances, modules, sets, IPs, process names, cloud areas, else the
// business), checks every other condition on the stored JSON, then sorts
// the matches and cuts the page. buntdb has no index intersection and no
// counting without visiting, so this is the natural plan.
type Buntdb struct {
	db *buntdb.DB
}

// buntIndexes maps an index name to the JSON field it orders by.
var buntIndexes = []struct {
	name  string
	field record.Field
}{
	{"biz", record.FieldBizID},
	{"set", record.FieldSetID},
	{"module", record.FieldModuleID},
	{"service", record.FieldServiceInstanceID},
	{"pname", record.FieldProcessName},
	{"cloud", record.FieldCloudID},
	{"ip", record.FieldInnerIP},
}

// buntKey is the key of a process: its id zero-padded, so key order is
// id order and index ties break by ascending bk_process_id.
func buntKey(pid int64) string {
	const width = 19
	s := strconv.FormatInt(pid, 10)
	b := make([]byte, 0, 2+width)
	b = append(b, "p:"...)
	for range width - len(s) {
		b = append(b, '0')
	}
	return string(append(b, s...))
}

// NewBuntdb stores recs in an in-memory buntdb and builds its indexes.
// progress, when not nil, is called as records are stored.
func NewBuntdb(recs []*record.Record, progress func(done, total int)) (*Buntdb, error) {
	db, err := buntdb.Open(":memory:")
	if err != nil {
		return nil, fmt.Errorf("buntdb: open: %w", err)
	}
	b := &Buntdb{db: db}
	if err := b.load(recs, progress); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return b, nil
}

func (b *Buntdb) load(recs []*record.Record, progress func(done, total int)) error {
	for _, ix := range buntIndexes {
		less := jsonLess(ix.field)
		if err := b.db.CreateIndex(ix.name, "p:*", less); err != nil {
			return fmt.Errorf("buntdb: create index %s: %w", ix.name, err)
		}
	}
	const batch = 8192
	var buf []byte
	for start := 0; start < len(recs); start += batch {
		end := min(start+batch, len(recs))
		err := b.db.Update(func(tx *buntdb.Tx) error {
			for _, r := range recs[start:end] {
				buf = appendBuntValue(buf[:0], r)
				if _, _, err := tx.Set(buntKey(r.ProcessID), string(buf), nil); err != nil {
					return fmt.Errorf("buntdb: set bk_process_id %d: %w", r.ProcessID, err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if progress != nil {
			progress(end, len(recs))
		}
	}
	return nil
}

// buntLead are the fields a stored object starts with: the indexed ones,
// then the others a query reads (decodeBuntRow).
var buntLead = []record.Field{
	record.FieldBizID, record.FieldSetID, record.FieldModuleID, record.FieldServiceInstanceID,
	record.FieldCloudID, record.FieldProcessName, record.FieldInnerIP, record.FieldProcessStatus,
	record.FieldID, record.FieldProcessID, record.FieldIsAuto, record.FieldSetEnv,
	record.FieldCloudName, record.FieldSetName, record.FieldModuleName, record.FieldServiceName,
}

// appendBuntValue appends the stored JSON object of r: the record's list
// item with the buntLead fields first.
func appendBuntValue(b []byte, r *record.Record) []byte {
	b = append(b, '{')
	var lead record.FieldSet
	for _, f := range buntLead {
		lead = lead.With(f)
		one := r.AppendJSON(nil, record.FieldSet(0).With(f))
		b = append(append(b, one[1:len(one)-1]...), ',')
	}
	rest := r.AppendJSON(nil, record.AllFields&^lead)
	return append(b, rest[1:]...)
}

// Name returns "buntdb".
func (b *Buntdb) Name() string { return "buntdb" }

// Close closes the database.
func (b *Buntdb) Close() error { return b.db.Close() }

// buntRow is the part of a stored record a query looks at.
type buntRow struct {
	id, biz, cloudID, setID, moduleID, serviceID, pid, status int64
	isAuto                                                    bool
	env, ip, cloudName, setName, moduleName, serviceName      string
	processName                                               string
}

// decodeBuntRow reads the fields of buntRow from a stored JSON item in
// one pass.
func decodeBuntRow(val string) buntRow {
	var r buntRow
	want := len(buntLead)
	seen := 0
	gjson.Parse(val).ForEach(func(k, v gjson.Result) bool {
		seen++
		switch k.Str {
		case "id":
			r.id = v.Int()
		case "bk_biz_id":
			r.biz = v.Int()
		case "bk_cloud_id":
			r.cloudID = v.Int()
		case "bk_set_id":
			r.setID = v.Int()
		case "bk_module_id":
			r.moduleID = v.Int()
		case "service_instance_id":
			r.serviceID = v.Int()
		case "bk_process_id":
			r.pid = v.Int()
		case "process_status":
			r.status = v.Int()
		case "is_auto":
			r.isAuto = v.Bool()
		case "bk_set_env":
			r.env = v.Str
		case "bk_host_innerip":
			r.ip = v.Str
		case "bk_cloud_name":
			r.cloudName = v.Str
		case "bk_set_name":
			r.setName = v.Str
		case "bk_module_name":
			r.moduleName = v.Str
		case "bk_service_name":
			r.serviceName = v.Str
		case "bk_process_name":
			r.processName = v.Str
		default:
			seen--
		}
		return seen < want
	})
	return r
}

// pivot is the JSON object {f: v} to look v up in the index on f.
func pivot(f record.Field, v any) string {
	switch v := v.(type) {
	case string:
		// Encoded as the stored values are, so equal strings compare equal.
		r := record.Record{ProcessName: v, InnerIP: v}
		return string(r.AppendJSON(nil, record.FieldSet(0).With(f)))
	case int64:
		return `{"` + f.String() + `":` + strconv.FormatInt(v, 10) + "}"
	}
	panic(fmt.Sprintf("bench: pivot of %T", v)) // unreachable: callers pass int64 or string
}

// jsonLess orders stored objects by one top-level field read straight
// from their text: integers numerically, strings by their JSON text
// (equal strings have equal text). buntdb.IndexJSON does the same with a
// JSON parser, several times slower; the indexed fields lead every
// stored object, so the key is found at once.
func jsonLess(f record.Field) func(a, b string) bool {
	key := `"` + f.String() + `":`
	switch f {
	case record.FieldProcessName, record.FieldInnerIP:
		return func(a, b string) bool { return jsonText(a, key) < jsonText(b, key) }
	}
	return func(a, b string) bool { return jsonInt(a, key) < jsonInt(b, key) }
}

// jsonInt reads the integer after key in s; a missing key reads as the
// smallest int64. In JSON text `"name":` can only be a key.
func jsonInt(s, key string) int64 {
	i := strings.Index(s, key)
	if i < 0 {
		return math.MinInt64
	}
	s = s[i+len(key):]
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var v int64
	for j := 0; j < len(s) && s[j] >= '0' && s[j] <= '9'; j++ {
		v = v*10 + int64(s[j]-'0')
	}
	if neg {
		return -v
	}
	return v
}

// jsonText returns the JSON text of the string after key in s, without
// its quotes; "" when there is none.
func jsonText(s, key string) string {
	i := strings.Index(s, key)
	if i < 0 {
		return ""
	}
	s = s[i+len(key):]
	if !strings.HasPrefix(s, `"`) {
		return ""
	}
	for j := 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return s[1:j]
		}
	}
	return s[1:]
}

// Query answers q by walking one secondary index.
func (b *Buntdb) Query(ctx context.Context, q *api.Query) (Answer, error) {
	var m *match.Expr
	if q.Scope == nil && q.Expr != nil {
		var err error
		if m, err = match.ExprOf(q.Expr); err != nil {
			return Answer{}, err
		}
	}
	sc := q.Scope
	// The rows of the scope or expression, before the other filters.
	var scoped []buntRow
	keep := func(_, val string) bool {
		r := decodeBuntRow(val)
		switch {
		case r.biz != q.BizID:
		case sc != nil:
			if match.EnvOK(sc.Env, r.env) && match.In(sc.SetIDs, r.setID) && match.In(sc.ModuleIDs, r.moduleID) &&
				match.In(sc.ServiceIDs, r.serviceID) && match.In(sc.ProcessNames, r.processName) && match.In(sc.ProcessIDs, r.pid) {
				scoped = append(scoped, r)
			}
		case m != nil:
			if match.EnvOK(m.Env, r.env) && m.Match(r.setName, r.moduleName, r.serviceName, r.processName, r.pid) {
				scoped = append(scoped, r)
			}
		}
		return true
	}
	err := b.db.View(func(tx *buntdb.Tx) error { return walkIndex(tx, q, keep) })
	if err != nil {
		return Answer{}, err
	}
	if m != nil && m.Slice() != nil {
		// The business index walk is in key order, ascending
		// bk_process_id, so this sort finds the rows already in order.
		slices.SortFunc(scoped, func(a, b buntRow) int { return cmp.Compare(a.pid, b.pid) })
		start, end := m.Slice().Bounds(len(scoped))
		scoped = scoped[start:end]
	}
	if err := ctx.Err(); err != nil {
		return Answer{}, err
	}
	withIP := match.NeedsIP(q.Ordering)
	rows := make([]match.SortRow, 0, len(scoped))
	for i := range scoped {
		r := &scoped[i]
		if match.RestOK(q, r.cloudID, r.ip, r.cloudName, r.status, r.isAuto) {
			row := match.SortRow{ID: r.id, SetID: r.setID, ModuleID: r.moduleID, PID: r.pid, ProcessName: r.processName}
			if withIP {
				row.IP = match.IPKeyOf(r.ip)
			}
			rows = append(rows, row)
		}
	}
	slices.SortFunc(rows, func(a, b match.SortRow) int { return match.Compare(q.Ordering, &a, &b) })
	return Answer{Count: uint64(len(rows)), IDs: match.PageOf(rows, q.Offset, q.Limit)}, nil
}

// walkIndex calls keep with every row of the one secondary index that
// narrows q the most: process ids, then service instances, modules, sets,
// IPs, process names, cloud areas, and the business as a last resort.
func walkIndex(tx *buntdb.Tx, q *api.Query, keep func(key, val string) bool) error {
	sc := q.Scope
	walk := func(index string, field record.Field, vals []any) error {
		for _, v := range vals {
			if err := tx.AscendEqual(index, pivot(field, v), keep); err != nil {
				return fmt.Errorf("buntdb: walk %s: %w", index, err)
			}
		}
		return nil
	}
	switch {
	case sc != nil && len(sc.ProcessIDs) > 0:
		for _, pid := range dedupe(sc.ProcessIDs) {
			val, err := tx.Get(buntKey(pid))
			if errors.Is(err, buntdb.ErrNotFound) {
				continue
			}
			if err != nil {
				return fmt.Errorf("buntdb: get %d: %w", pid, err)
			}
			keep("", val)
		}
		return nil
	case sc != nil && len(sc.ServiceIDs) > 0:
		return walk("service", record.FieldServiceInstanceID, anys(dedupe(sc.ServiceIDs)))
	case sc != nil && len(sc.ModuleIDs) > 0:
		return walk("module", record.FieldModuleID, anys(dedupe(sc.ModuleIDs)))
	case sc != nil && len(sc.SetIDs) > 0:
		return walk("set", record.FieldSetID, anys(dedupe(sc.SetIDs)))
	// IPs and cloud areas filter after an expression and its slice,
	// so only a scope may be driven by them.
	case sc != nil && len(q.InnerIPs) > 0:
		return walk("ip", record.FieldInnerIP, anys(dedupe(q.InnerIPs)))
	case sc != nil && len(sc.ProcessNames) > 0:
		return walk("pname", record.FieldProcessName, anys(dedupe(sc.ProcessNames)))
	case sc != nil && len(q.CloudIDs) > 0:
		return walk("cloud", record.FieldCloudID, anys(dedupe(q.CloudIDs)))
	}
	return walk("biz", record.FieldBizID, []any{q.BizID})
}

// dedupe returns the distinct values of list in first-seen order.
func dedupe[T comparable](list []T) []T {
	out := make([]T, 0, len(list))
	for _, v := range list {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func anys[T any](list []T) []any {
	out := make([]any, len(list))
	for i, v := range list {
		out[i] = v
	}
	return out
}
