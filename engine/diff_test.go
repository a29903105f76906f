package engine

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/procq/procq/api"
	"github.com/procq/procq/expr"
	"github.com/procq/procq/record"
)

// This file holds the randomized differential test: random records and
// random requests answered by the engine and by fullScan, a deliberately
// simple implementation that looks at every record.

var (
	poolSetNames     = []string{"zone.1", "zone.2", "大区11", "set_1", "web.prod", "PaaS平台", "管控平台", "a", ""}
	poolModuleNames  = []string{"nginx", "存储层", "kafka-2", "zk.node", "m1", "m", "abc", "z-a"}
	poolProcessNames = []string{"gse_agent", "nginx", "mysql_3306", "进程A", "bkmonitorbeat", "nginx-2", "a?b", ""}
	poolIPs          = []string{"10.0.0.1", "10.0.0.10", "10.0.0.9", "192.168.1.2", "9.9.9.9", "", "", "abc", "10.0.0.01", "300.1.1.1", "1.2.3", "::1"}
	poolClouds       = []string{"default area", "云区域A", "腾讯云-广州", "Direct Area"}
	poolServices     = []string{"_nginx", "_gse_agent", "_gse_agent_3306", "_mysql"}
)

func randomRecords(rng *rand.Rand, n int) []*record.Record {
	recs := make([]*record.Record, 0, n)
	pids := map[int64]bool{}
	for len(recs) < n {
		pid := rng.Int64N(int64(n) * 20)
		if rng.IntN(10) == 0 {
			pid = rng.Int64N(3_000_000_000)
		}
		if pid <= 0 || pids[pid] {
			continue
		}
		pids[pid] = true
		ip := poolIPs[rng.IntN(len(poolIPs))]
		setID := int64(rng.IntN(8) + 1)
		cloud := rng.IntN(len(poolClouds))
		r := &record.Record{
			ID:                int64(rng.IntN(n) + 1),
			BizID:             int64(rng.IntN(3) + 1),
			CloudID:           int64(cloud),
			CloudName:         poolClouds[cloud],
			SetEnv:            strconv.Itoa(int(setID%3) + 1),
			SetID:             setID,
			SetName:           poolSetNames[setID%int64(len(poolSetNames))],
			ModuleID:          int64(rng.IntN(10) + 100),
			ModuleName:        poolModuleNames[rng.IntN(len(poolModuleNames))],
			ServiceInstanceID: int64(rng.IntN(30) + 1000),
			ServiceName:       ip + poolServices[rng.IntN(len(poolServices))],
			ProcessName:       poolProcessNames[rng.IntN(len(poolProcessNames))],
			ProcessID:         pid,
			ProcessStatus:     int64(rng.IntN(3)),
			IsAuto:            rng.IntN(2) == 0,
			InnerIP:           ip,
		}
		r.Expression = r.DerivedExpression()
		recs = append(recs, r)
	}
	return recs
}

// randomExpression draws an expression for a field from its value pool.
func randomExpression(rng *rand.Rand, pool []string) string {
	v := pool[rng.IntN(len(pool))]
	switch rng.IntN(11) {
	case 0:
		return ""
	case 1:
		return "*"
	case 2:
		return v
	case 3:
		if len(v) > 1 {
			return v[:len(v)/2] + "*"
		}
		return v + "*"
	case 4:
		return "*" + v[len(v)/2:]
	case 5:
		return "[" + v + ", " + pool[rng.IntN(len(pool))] + "]"
	case 6:
		r := []rune(v)
		if len(r) > 0 {
			r[rng.IntN(len(r))] = '?'
		}
		return string(r)
	case 7:
		return "[!a]*"
	case 8:
		return "*[0-9]*"
	case 9:
		// Literal pieces of three bytes or more: the trigram path.
		if len(v) >= 4 {
			i := rng.IntN(len(v) - 2)
			j := i + 3 + rng.IntN(len(v)-i-2)
			return []string{"*" + v[i:j] + "*", "?*" + v[i:j] + "*", "*" + v[i:j] + "?", v[:1] + "*" + v[i:j] + "*[!q]*"}[rng.IntN(4)]
		}
	}
	return "[" + v // syntax error
}

func randomPIDExpression(rng *rand.Rand, recs []*record.Record) string {
	pid := strconv.FormatInt(recs[rng.IntN(len(recs))].ProcessID, 10)
	a, b := rng.IntN(200), rng.IntN(5000)
	switch rng.IntN(12) {
	case 0:
		return ""
	case 1:
		return pid
	case 2:
		return fmt.Sprintf("[%d-%d]", a, a+b)
	case 3:
		return fmt.Sprintf("[%d-%d, %s]", a, a+b, pid)
	case 4:
		return pid[:1] + "*"
	case 5:
		return "*" + pid[len(pid)-1:]
	case 6:
		return fmt.Sprintf("[%d:%d]", rng.IntN(20)-10, rng.IntN(40)-10)
	case 7:
		return fmt.Sprintf("[:%d]", rng.IntN(30)-10)
	case 8:
		return fmt.Sprintf("[%d:]", rng.IntN(30)-10)
	case 9:
		return []string{"[0:3]x", "[0:3][1:", "[1:2:3]", "[ 0:3]"}[rng.IntN(4)]
	case 10:
		return "1[0-9]?*"
	}
	return "[1-1000000000]"
}

func pick[T any](rng *rand.Rand, pool []T, max int) []T {
	n := rng.IntN(max + 1)
	out := make([]T, n)
	for i := range out {
		out[i] = pool[rng.IntN(len(pool))]
	}
	return out
}

var orderingKeys = []string{"id", "bk_set_id", "bk_module_id", "bk_process_name", "bk_process_id", "bk_host_innerip"}

func randomRequest(rng *rand.Rand, recs []*record.Record) map[string]any {
	q := map[string]any{
		"bk_biz_id": rng.IntN(4) + 1,
		"page":      rng.IntN(4) + 1,
		"pagesize":  []int{1, 3, 10, 50, 1000, 5000}[rng.IntN(6)],
	}
	var sets, modules, services, pids []int64
	for _, r := range recs[:min(len(recs), 40)] {
		sets, modules, services, pids = append(sets, r.SetID), append(modules, r.ModuleID), append(services, r.ServiceInstanceID), append(pids, r.ProcessID)
	}
	if rng.IntN(2) == 0 {
		scope := map[string]any{}
		if rng.IntN(4) > 0 {
			scope["bk_set_env"] = strconv.Itoa(rng.IntN(4))
		}
		if rng.IntN(3) == 0 {
			scope["bk_set_ids"] = pick(rng, sets, 3)
		}
		if rng.IntN(3) == 0 {
			scope["bk_module_ids"] = pick(rng, modules, 3)
		}
		if rng.IntN(4) == 0 {
			scope["bk_service_ids"] = pick(rng, services, 5)
		}
		if rng.IntN(4) == 0 {
			scope["bk_process_names"] = pick(rng, poolProcessNames, 3)
		}
		if rng.IntN(4) == 0 {
			scope["bk_process_ids"] = pick(rng, pids, 10)
		}
		q["scope"] = scope
	} else {
		var services []string
		for _, r := range recs[:min(len(recs), 20)] {
			services = append(services, r.ServiceName)
		}
		q["expression_scope"] = map[string]any{
			"bk_set_env":            strconv.Itoa(rng.IntN(4)),
			"bk_set_name":           randomExpression(rng, poolSetNames),
			"bk_module_name":        randomExpression(rng, poolModuleNames),
			"service_instance_name": randomExpression(rng, services),
			"bk_process_name":       randomExpression(rng, poolProcessNames),
			"bk_process_id":         randomPIDExpression(rng, recs),
		}
	}
	if rng.IntN(4) == 0 {
		q["bk_cloud_ids"] = pick(rng, []int{0, 1, 2, 3, 9}, 2)
	}
	if rng.IntN(4) == 0 {
		q["bk_host_innerips"] = pick(rng, poolIPs, 3)
	}
	if rng.IntN(5) == 0 {
		q["process_status"] = rng.IntN(3)
	}
	if rng.IntN(4) == 0 {
		q["process_status_list"] = pick(rng, []int{0, 1, 2}, 2)
	}
	if rng.IntN(5) == 0 {
		q["is_auto"] = rng.IntN(2) == 0
	}
	if rng.IntN(5) == 0 {
		q["is_auto_list"] = pick(rng, []bool{true, false}, 2)
	}
	if rng.IntN(4) == 0 {
		q["searches"] = pick(rng, searchFragments(rng), 2)
	}
	if rng.IntN(4) > 0 {
		var keys []string
		for range rng.IntN(3) + 1 {
			k := orderingKeys[rng.IntN(len(orderingKeys))]
			if rng.IntN(2) == 0 {
				k = "-" + k
			}
			keys = append(keys, k)
		}
		q["ordering"] = strings.Join(keys, ",")
	}
	if rng.IntN(5) == 0 {
		q["fields"] = pick(rng, []string{"bk_process_id", "bk_host_innerip", "is_auto", "expression"}, 3)
	}
	if rng.IntN(25) == 0 { // invalid input
		switch rng.IntN(4) {
		case 0:
			q["page"] = 0
		case 1:
			q["ordering"] = "nope"
		case 2:
			delete(q, "bk_biz_id")
		case 3:
			q["searches"] = []string{" "}
		}
	}
	return q
}

// searchFragments returns fixed search terms and random fragments of 1-6
// bytes of the IP and cloud-name pools (cut anywhere, inside a character
// too), so both the dictionary scan and the trigram path are exercised.
func searchFragments(rng *rand.Rand) []string {
	out := []string{"10.0", "0.1", "云", "area", ".", "9", "zz", "0.0.1", "云区域"}
	for range 4 {
		pool := poolIPs
		if rng.IntN(2) == 0 {
			pool = poolClouds
		}
		v := pool[rng.IntN(len(pool))]
		if v == "" {
			continue
		}
		i := rng.IntN(len(v))
		j := min(len(v), i+1+rng.IntN(6))
		if strings.TrimSpace(v[i:j]) != "" {
			out = append(out, v[i:j])
		}
	}
	return out
}

// fullScan answers q by testing every record and sorting the matches.
func fullScan(recs []*record.Record, q *api.Query) (*Result, error) {
	match := func(r *record.Record) bool { return r.BizID == q.BizID }
	var sliceOf *expr.Slice
	if s := q.Scope; s != nil {
		prev := match
		match = func(r *record.Record) bool {
			return prev(r) && (s.Env == "0" || r.SetEnv == s.Env) &&
				in(s.SetIDs, r.SetID) && in(s.ModuleIDs, r.ModuleID) && in(s.ServiceIDs, r.ServiceInstanceID) &&
				in(s.ProcessNames, r.ProcessName) && in(s.ProcessIDs, r.ProcessID)
		}
	} else if x := q.Expr; x != nil {
		// The expressions come compiled from api.ParseRequest, the one
		// compiler; this oracle only evaluates them, record by record.
		c := x.Compiled
		pats := [4]*expr.Pattern{c.SetName, c.ModuleName, c.ServiceInstanceName, c.ProcessName}
		pidPat := c.ProcessID
		sliceOf = c.Slice
		prev := match
		match = func(r *record.Record) bool {
			return prev(r) && (x.Env == "0" || r.SetEnv == x.Env) &&
				pats[0].Match(r.SetName) && pats[1].Match(r.ModuleName) &&
				pats[2].Match(r.ServiceName) && pats[3].Match(r.ProcessName) &&
				(pidPat == nil || pidPat.Match(strconv.FormatInt(r.ProcessID, 10)))
		}
	}
	var hits []*record.Record
	for _, r := range recs {
		if match(r) {
			hits = append(hits, r)
		}
	}
	if sliceOf != nil {
		slices.SortFunc(hits, func(a, b *record.Record) int { return cmp.Compare(a.ProcessID, b.ProcessID) })
		start, end := pythonSlice(sliceOf, len(hits))
		hits = hits[start:end]
	}
	hits = slices.DeleteFunc(hits, func(r *record.Record) bool {
		ok := in(q.CloudIDs, r.CloudID) && in(q.InnerIPs, r.InnerIP) && in(q.Status, r.ProcessStatus) &&
			in(q.StatusList, r.ProcessStatus) && in(q.IsAuto, r.IsAuto) && in(q.IsAutoList, r.IsAuto)
		for _, t := range q.Searches {
			ok = ok && (strings.Contains(r.InnerIP, t) || strings.Contains(r.CloudName, t))
		}
		return !ok
	})
	slices.SortFunc(hits, func(a, b *record.Record) int {
		for _, k := range q.Ordering {
			c := compareField(a, b, k.Field)
			if k.Desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return cmp.Compare(a.ProcessID, b.ProcessID)
	})
	res := &Result{Count: uint64(len(hits)), Fields: q.Fields}
	if q.Offset < uint64(len(hits)) {
		res.Rows = hits[q.Offset:min(uint64(len(hits)), q.Offset+uint64(q.Limit))]
	}
	return res, nil
}

func in[T comparable](list []T, v T) bool {
	return len(list) == 0 || slices.Contains(list, v)
}

// pythonSlice applies Python's list slice rules for a list of length n.
func pythonSlice(s *expr.Slice, n int) (int, int) {
	clamp := func(v int64, has bool, dflt int) int {
		if !has {
			return dflt
		}
		if v < 0 {
			v += int64(n)
			if v < 0 {
				return 0
			}
		}
		return int(min(v, int64(n)))
	}
	start, end := clamp(s.From, s.HasFrom, 0), clamp(s.To, s.HasTo, n)
	if end < start {
		end = start
	}
	return start, end
}

func compareField(a, b *record.Record, f record.Field) int {
	switch f {
	case record.FieldID:
		return cmp.Compare(a.ID, b.ID)
	case record.FieldSetID:
		return cmp.Compare(a.SetID, b.SetID)
	case record.FieldModuleID:
		return cmp.Compare(a.ModuleID, b.ModuleID)
	case record.FieldProcessName:
		return strings.Compare(a.ProcessName, b.ProcessName)
	case record.FieldProcessID:
		return cmp.Compare(a.ProcessID, b.ProcessID)
	case record.FieldInnerIP:
		return compareAddress(a.InnerIP, b.InnerIP)
	}
	panic("unknown ordering field " + f.String())
}

// compareAddress: IPv4 numerically, then other text byte-wise, then empty.
func compareAddress(a, b string) int {
	class := func(s string) (int, netip.Addr) {
		if s == "" {
			return 2, netip.Addr{}
		}
		if ip, err := netip.ParseAddr(s); err == nil && ip.Is4() {
			return 0, ip
		}
		return 1, netip.Addr{}
	}
	ca, ia := class(a)
	cb, ib := class(b)
	if ca != cb {
		return cmp.Compare(ca, cb)
	}
	if ca == 0 {
		return ia.Compare(ib)
	}
	return strings.Compare(a, b)
}

// answer renders what fullScan says as the engine's envelope would be.
func answer(recs []*record.Record, body []byte) []byte {
	q, err := api.ParseRequest(body)
	if err == nil {
		var res *Result
		if res, err = fullScan(recs, q); err == nil {
			return api.AppendSuccess(nil, int(res.Count), res.Rows, res.Fields)
		}
	}
	return api.AppendError(nil, err.(*api.Error))
}

// sameAnswer compares two envelopes: result, code, and on success the data.
func sameAnswer(t *testing.T, got, want []byte) bool {
	t.Helper()
	var g, w map[string]any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("engine answered invalid JSON %s: %v", got, err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("oracle answered invalid JSON %s: %v", want, err)
	}
	if g["result"] != w["result"] || g["code"] != w["code"] {
		return false
	}
	if w["result"] == true {
		gb, _ := json.Marshal(g["data"])
		wb, _ := json.Marshal(w["data"])
		return string(gb) == string(wb)
	}
	return g["message"] != ""
}

func TestDifferentialRandom(t *testing.T) {
	for seed := range uint64(6 * *diffScale) {
		rng := rand.New(rand.NewPCG(seed, 42))
		n := []int{1, 30, 300, 3000, 200, 1000}[seed%6]
		recs := randomRecords(rng, n)
		oracleRecs := slices.Clone(recs)
		e, err := New(recs)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 400 * *diffScale {
			body, err := json.Marshal(randomRequest(rng, oracleRecs))
			if err != nil {
				t.Fatal(err)
			}
			got, _ := e.Do(context.Background(), body)
			want := answer(oracleRecs, body)
			if !sameAnswer(t, got, want) {
				t.Fatalf("seed %d request %d differs\nrequest: %s\nengine:  %.2000s\noracle:  %.2000s", seed, i, body, got, want)
			}
		}
	}
}

// diffScale multiplies the differential test's data sets and requests for
// a long local run: go test ./engine -run Differential -diffscale 20.
var diffScale = flag.Int("diffscale", 1, "scale of the randomized differential test")

// TestDifferentialChanges applies random status batches, upserts and
// deletions, and checks after each step that the new engine answers like
// a full scan of the changed records while the old engine still answers
// like a scan of the old ones.
func TestDifferentialChanges(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	recs := randomRecords(rng, 500)
	model := map[int64]*record.Record{}
	for _, r := range recs {
		model[r.ProcessID] = r
	}
	e, err := New(slices.Clone(recs))
	if err != nil {
		t.Fatal(err)
	}
	snapshotOf := func() []*record.Record {
		out := make([]*record.Record, 0, len(model))
		for _, r := range model {
			out = append(out, r)
		}
		slices.SortFunc(out, func(a, b *record.Record) int { return cmp.Compare(a.ProcessID, b.ProcessID) })
		return out
	}
	for step := range 30 {
		oldEngine, oldRecs := e, snapshotOf()
		ids := make([]int64, 0, len(model))
		for _, r := range oldRecs {
			ids = append(ids, r.ProcessID)
		}
		if step%2 == 0 {
			var ups []record.StatusUpdate
			for range rng.IntN(100) {
				u := record.StatusUpdate{ProcessID: ids[rng.IntN(len(ids))], ProcessStatus: int64(rng.IntN(3)), IsAuto: rng.IntN(2) == 0}
				if rng.IntN(2) == 0 {
					u.SetProcInstInfos = true
					u.ProcInstInfos = []record.ProcInstInfo{{ProcessID: u.ProcessID, InstID: int64(step), ProcessStatus: u.ProcessStatus}}
				}
				ups = append(ups, u)
				c := *model[u.ProcessID]
				c.ProcessStatus, c.IsAuto = u.ProcessStatus, u.IsAuto
				if u.SetProcInstInfos {
					c.ProcInstInfos = u.ProcInstInfos
				}
				model[u.ProcessID] = &c
			}
			e, _ = e.WithStatus(ups)
		} else {
			var dels []int64
			for range rng.IntN(20) {
				pid := ids[rng.IntN(len(ids))]
				dels = append(dels, pid)
				delete(model, pid)
			}
			ups := randomRecords(rng, rng.IntN(30)+1)
			for _, r := range ups {
				model[r.ProcessID] = r
			}
			if e, err = e.WithChanges(ups, dels); err != nil {
				t.Fatal(err)
			}
		}
		newRecs := snapshotOf()
		for i := range 60 {
			body, _ := json.Marshal(randomRequest(rng, newRecs))
			for _, c := range []struct {
				e    *Engine
				recs []*record.Record
			}{{e, newRecs}, {oldEngine, oldRecs}} {
				got, _ := c.e.Do(context.Background(), body)
				if want := answer(c.recs, body); !sameAnswer(t, got, want) {
					t.Fatalf("step %d request %d (engine version %d) differs\nrequest: %s\nengine: %.1500s\noracle: %.1500s", step, i, c.e.Version(), body, got, want)
				}
			}
		}
	}
}
