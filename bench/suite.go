package bench

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/procq/procq/api"
	"github.com/procq/procq/record"
)

// Query is one named question of the workload suite.
type Query struct {
	// Name identifies the query in reports, e.g. "order_bk_set_id_desc".
	Name string
	// Feature says which request feature it exercises.
	Feature string
	// Body is the request as the API receives it.
	Body []byte
	// Q is Body parsed and validated.
	Q *api.Query
}

// LargestBusiness returns the bk_biz_id with the most records (the
// smallest such id on a tie) and its record count; ok is false when recs
// is empty.
func LargestBusiness(recs []*record.Record) (biz int64, n int, ok bool) {
	counts := map[int64]int{}
	for _, r := range recs {
		counts[r.BizID]++
	}
	for _, id := range slices.Sorted(maps.Keys(counts)) {
		if counts[id] > n {
			biz, n, ok = id, counts[id], true
		}
	}
	return biz, n, ok
}

// facts are what the suite needs to know of the business it asks about:
// distinct values, sorted, so the picks are deterministic.
type facts struct {
	biz        int64
	n          int
	pids       []int64
	setIDs     []int64
	moduleIDs  []int64
	ips        []string
	setNames   []string
	cloudCount map[int64]int
	cloudName  map[int64]string
}

func factsOf(recs []*record.Record, biz int64) *facts {
	f := &facts{biz: biz, cloudCount: map[int64]int{}, cloudName: map[int64]string{}}
	sets, mods, ips, names := map[int64]bool{}, map[int64]bool{}, map[string]bool{}, map[string]bool{}
	for _, r := range recs {
		if r.BizID != biz {
			continue
		}
		f.n++
		f.pids = append(f.pids, r.ProcessID)
		sets[r.SetID], mods[r.ModuleID], names[r.SetName] = true, true, true
		if r.InnerIP != "" {
			ips[r.InnerIP] = true
		}
		f.cloudCount[r.CloudID]++
		f.cloudName[r.CloudID] = r.CloudName
	}
	slices.Sort(f.pids)
	f.setIDs = slices.Sorted(maps.Keys(sets))
	f.moduleIDs = slices.Sorted(maps.Keys(mods))
	f.ips = slices.Sorted(maps.Keys(ips))
	f.setNames = slices.Sorted(maps.Keys(names))
	return f
}

// spread returns k items of list evenly spaced from its start to its end
// (all of them when it has no more than k).
func spread[T any](list []T, k int) []T {
	if len(list) <= k {
		return slices.Clone(list)
	}
	out := make([]T, 0, k)
	for i := range k {
		out = append(out, list[i*(len(list)-1)/max(k-1, 1)])
	}
	return out
}

// cloudsByShare returns the cloud ids of the business, most records
// first (ties by id).
func (f *facts) cloudsByShare() []int64 {
	ids := slices.Sorted(maps.Keys(f.cloudCount))
	slices.SortStableFunc(ids, func(a, b int64) int { return cmp.Compare(f.cloudCount[b], f.cloudCount[a]) })
	return ids
}

// cloudFragment is a piece of a cloud area name shared by several areas
// when there is one ("云区域" of 云区域A and 云区域B), else the first
// three characters of the second most common area's name.
func (f *facts) cloudFragment() string {
	ids := f.cloudsByShare()
	for _, id := range ids {
		if strings.Contains(f.cloudName[id], "云区域") {
			return "云区域"
		}
	}
	name := f.cloudName[ids[min(1, len(ids)-1)]]
	r := []rune(name)
	return string(r[:min(3, len(r))])
}

// ipFragment is the first three octets and the dot of the median
// address, such as "10.0.3.".
func (f *facts) ipFragment() string {
	if len(f.ips) == 0 {
		return "."
	}
	ip := f.ips[len(f.ips)/2]
	if i := strings.LastIndexByte(ip, '.'); i > 0 {
		return ip[:i+1]
	}
	return ip
}

// orderingKeys are the sort keys of SPEC section 6.
var orderingKeys = []string{"id", "bk_set_id", "bk_module_id", "bk_process_name", "bk_process_id", "bk_host_innerip"}

// TenGroups is the ten-bracket-group expression of the suite, matched
// against service instance names such as 10.0.3.17_gse_agent. Expanded
// into a cross product it would be about 1.7 × 10^16 patterns.
const TenGroups = "[1-255].[0-255].[0-255].[0-255]_[gse, nginx, redis][_,-][a-z][a-z][a-z,-][a-z,0-9]*"

// Suite builds the workload from the records of the largest business of
// recs. Every query targets that business with ids and names picked from
// its records, deterministically.
func Suite(recs []*record.Record) ([]Query, error) {
	biz, _, ok := LargestBusiness(recs)
	if !ok {
		return nil, errors.New("bench: no records to build the suite from")
	}
	f := factsOf(recs, biz)
	type req = map[string]any
	scope := func(env string, extra req) req {
		sc := req{"bk_set_env": env}
		for k, v := range extra {
			sc[k] = v
		}
		return req{"scope": sc}
	}
	exprScope := func(env string, fields req) req {
		x := req{"bk_set_env": env, "bk_set_name": "*", "bk_module_name": "*",
			"service_instance_name": "*", "bk_process_name": "*", "bk_process_id": "*"}
		for k, v := range fields {
			x[k] = v
		}
		return req{"expression_scope": x}
	}
	with := func(base req, extra req) req {
		for k, v := range extra {
			base[k] = v
		}
		return base
	}
	clouds := f.cloudsByShare()
	var twoClouds []int64
	if len(clouds) > 2 {
		twoClouds = clouds[1:3] // the two biggest areas after the default one
	} else {
		twoClouds = clouds
	}
	pidAt := func(q float64) int64 { return f.pids[int(q*float64(len(f.pids)-1))] }
	setList := "[" + strings.Join(spread(f.setNames, 3), ", ") + "]"
	const deepSize = 100
	deepPage := int64(f.n) * 7 / 10 / deepSize

	defs := []def{
		{"env_only", "scope with bk_set_env only", scope("3", nil)},
		{"set_ids", "10 bk_set_ids", scope("0", req{"bk_set_ids": spread(f.setIDs, 10)})},
		{"module_ids", "25 bk_module_ids", scope("0", req{"bk_module_ids": spread(f.moduleIDs, 25)})},
		{"status_auto", "process_status and is_auto", with(scope("0", nil), req{"process_status": 1, "is_auto": false})},
		{"cloud_ids", "2 bk_cloud_ids", with(scope("0", nil), req{"bk_cloud_ids": twoClouds})},
		{"ip_list", "50 bk_host_innerips", with(scope("0", nil), req{"bk_host_innerips": spread(f.ips, 50)})},
		{"search_ip", "search on an IP fragment", with(scope("0", nil), req{"searches": []string{f.ipFragment()}})},
		{"search_cloud", "search on a cloud-name fragment", with(scope("0", nil), req{"searches": []string{f.cloudFragment()}})},
	}
	for _, k := range orderingKeys {
		defs = append(defs,
			def{"order_" + k + "_asc", "ordering " + k, with(scope("3", nil), req{"ordering": k})},
			def{"order_" + k + "_desc", "ordering -" + k, with(scope("3", nil), req{"ordering": "-" + k})})
	}
	defs = append(defs,
		def{"deep_page", "page at 70% of the business", with(scope("0", nil), req{"page": deepPage, "pagesize": deepSize})},
		def{"deep_page_ordered", "page at 70%, ordering bk_module_id,-bk_host_innerip",
			with(scope("0", nil), req{"page": deepPage, "pagesize": deepSize, "ordering": "bk_module_id,-bk_host_innerip"})},
		def{"fields", "fields projection, 100 rows", with(scope("3", nil), req{"pagesize": 100,
			"fields": []string{"bk_process_id", "bk_process_name", "process_status"}})},
		def{"expr_all", "expression_scope, every field *", exprScope("0", nil)},
		def{"expr_set_list", "bk_set_name " + setList, exprScope("0", req{"bk_set_name": setList})},
		def{"expr_pid_range", "bk_process_id numeric range over 25% of ids",
			exprScope("0", req{"bk_process_id": "[" + strconv.FormatInt(pidAt(0.20), 10) + "-" + strconv.FormatInt(pidAt(0.45), 10) + "]"})},
		def{"expr_suffix", "service_instance_name *_gse_agent", exprScope("3", req{"service_instance_name": "*_gse_agent"})},
		def{"expr_slice", "bk_process_id slice [0:100]", exprScope("0", req{"bk_process_id": "[0:100]"})},
		def{"expr_huge_range", "bk_process_id [1-1000000000]", exprScope("0", req{"bk_process_id": "[1-1000000000]"})},
		def{"expr_ten_groups", "ten bracket groups in service_instance_name", exprScope("0", req{"service_instance_name": TenGroups})},
	)
	return buildSuite(biz, defs)
}

// def is a query of the suite before it is encoded: its name, the
// feature it exercises and its request fields beyond the business and
// the page.
type def struct {
	name, feature string
	body          map[string]any
}

// buildSuite encodes and parses each def as a request about biz.
func buildSuite(biz int64, defs []def) ([]Query, error) {
	out := make([]Query, 0, len(defs))
	for _, d := range defs {
		body := map[string]any{"bk_biz_id": biz, "page": 1, "pagesize": 50}
		maps.Copy(body, d.body)
		raw, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("bench: query %s: %w", d.name, err)
		}
		q, err := api.ParseRequest(raw)
		if err != nil {
			return nil, fmt.Errorf("bench: query %s: %s: %w", d.name, raw, err)
		}
		out = append(out, Query{Name: d.name, Feature: d.feature, Body: raw, Q: q})
	}
	return out, nil
}
