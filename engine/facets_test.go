package engine

import (
	"cmp"
	"context"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/procq/procq/api"
	"github.com/procq/procq/internal/synth"
	"github.com/procq/procq/record"
)

// facetAnswer is the part of an answer the facet tests read.
type facetAnswer struct {
	Result bool   `json:"result"`
	Msg    string `json:"message"`
	Data   struct {
		Count  uint64 `json:"count"`
		Facets map[string]struct {
			Values []struct {
				Value json.RawMessage `json:"value"`
				Count uint64          `json:"count"`
			} `json:"values"`
			Other uint64 `json:"other"`
		} `json:"facets"`
	} `json:"data"`
}

// askFacets answers q; ok is false when q is not a valid request (random
// requests may have invalid expressions).
func askFacets(t *testing.T, e *Engine, q map[string]any) (a facetAnswer, ok bool) {
	t.Helper()
	body, _ := json.Marshal(q)
	out, err := e.Do(context.Background(), body)
	if err != nil {
		if _, isAPI := err.(*api.Error); isAPI {
			return a, false
		}
		t.Fatalf("%s: %v", body, err)
	}
	if err := json.Unmarshal(out, &a); err != nil || !a.Result {
		t.Fatalf("%s: %v %s", body, err, out)
	}
	return a, true
}

// withFacetFilter returns q narrowed to the matches whose field is v, or
// false when q has no filter that says exactly that. v is a value of the
// result, so replacing a list filter with [v] narrows, never widens.
func withFacetFilter(q map[string]any, field string, v any) (map[string]any, bool) {
	c := make(map[string]any, len(q))
	for k, x := range q {
		c[k] = x
	}
	scope, isScope := q["scope"].(map[string]any)
	if isScope {
		s := make(map[string]any, len(scope))
		for k, x := range scope {
			s[k] = x
		}
		c["scope"] = s
		scope = s
	}
	switch field {
	case "process_status", "is_auto":
		c[field] = v
	case "bk_cloud_id":
		c["bk_cloud_ids"] = []any{v}
	case "bk_set_env":
		if !isScope {
			x := map[string]any{}
			for k, y := range q["expression_scope"].(map[string]any) {
				x[k] = y
			}
			x["bk_set_env"] = v
			c["expression_scope"] = x
			return c, true
		}
		scope["bk_set_env"] = v
	default:
		if !isScope {
			return nil, false
		}
		key := map[string]string{"bk_set_id": "bk_set_ids", "bk_module_id": "bk_module_ids", "bk_process_name": "bk_process_names"}[field]
		scope[key] = []any{v}
	}
	return c, true
}

// TestFacetCountsAreFilteredCounts checks the facets' invariant: the
// count of a value is data.count of the same request with that value as a
// filter, and the counts of a facet add up to data.count; on engines
// with and without a delta.
func TestFacetCountsAreFilteredCounts(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 1))
	recs := randomRecords(rng, 1500)
	base, err := New(recs)
	if err != nil {
		t.Fatal(err)
	}
	withDelta, err := base.WithChanges(randomRecords(rng, 60), []int64{recs[0].ProcessID, recs[1].ProcessID, recs[2].ProcessID})
	if err != nil {
		t.Fatal(err)
	}
	var ups []record.StatusUpdate
	for _, r := range recs[10:200] {
		ups = append(ups, record.StatusUpdate{ProcessID: r.ProcessID, ProcessStatus: int64(rng.IntN(3)), IsAuto: rng.IntN(2) == 0})
	}
	withDelta, _ = withDelta.WithStatus(ups)
	if withDelta.Delta().Records == 0 {
		t.Fatal("no delta")
	}
	checked := 0
	for _, e := range []*Engine{base, withDelta} {
		for range 60 {
			q := randomRequest(rng, recs)
			q["facets"] = api.FacetFields
			q["facet_limit"] = api.MaxFacetLimit
			a, valid := askFacets(t, e, q)
			if !valid {
				continue
			}
			for _, field := range api.FacetFields {
				f, ok := a.Data.Facets[field]
				if !ok {
					t.Fatalf("facet %s missing", field)
				}
				sum := f.Other
				for i, v := range f.Values {
					sum += v.Count
					if i >= 4 {
						continue // the first few values are enough per request
					}
					var val any
					_ = json.Unmarshal(v.Value, &val)
					fq, ok := withFacetFilter(q, field, val)
					if !ok {
						continue
					}
					if got, _ := askFacets(t, e, fq); got.Data.Count != v.Count {
						t.Errorf("facet %s=%s: count %d, filtered request counts %d\nrequest %v", field, v.Value, v.Count, got.Data.Count, q)
					}
					checked++
				}
				if sum != a.Data.Count {
					t.Errorf("facet %s adds up to %d, count %d", field, sum, a.Data.Count)
				}
			}
		}
	}
	if checked < 100 {
		t.Errorf("only %d facet values checked", checked)
	}
}

func TestFacetLimitAndOrder(t *testing.T) {
	recs := randomRecords(rand.New(rand.NewPCG(2, 2)), 500)
	e, err := New(recs)
	if err != nil {
		t.Fatal(err)
	}
	q := map[string]any{"bk_biz_id": 1, "scope": map[string]any{"bk_set_env": "0"}, "page": 1, "pagesize": 1,
		"facets": []string{"bk_module_id"}, "facet_limit": 3}
	a, _ := askFacets(t, e, q)
	f := a.Data.Facets["bk_module_id"]
	if len(f.Values) != 3 || f.Other == 0 {
		t.Fatalf("facet_limit 3: %+v", f)
	}
	for i := 1; i < len(f.Values); i++ {
		p, c := f.Values[i-1], f.Values[i]
		if p.Count < c.Count || p.Count == c.Count && string(p.Value) >= string(c.Value) {
			t.Errorf("values out of order: %s:%d before %s:%d", p.Value, p.Count, c.Value, c.Count)
		}
	}
	// Without facets the answer has no facets member.
	delete(q, "facets")
	body, _ := json.Marshal(q)
	out, _ := e.Do(context.Background(), body)
	var m struct{ Data map[string]json.RawMessage }
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Data["facets"]; ok {
		t.Errorf("facets without asking: %s", out)
	}
}

// BenchmarkFacets answers a whole-business request with all seven facets
// (and without, for the difference) on the bench engine
// (PROCQ_BENCH_PROCESSES processes).
func BenchmarkFacets(b *testing.B) {
	e, err := benchEngine()
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name  string
		extra string
	}{{"none", ``}, {"seven", `,"facets":["process_status","is_auto","bk_set_id","bk_module_id","bk_cloud_id","bk_process_name","bk_set_env"]`}} {
		body := []byte(`{"bk_biz_id":2,"scope":{"bk_set_env":"0"},"process_status_list":[1],"fields":["bk_process_id"],"page":1,"pagesize":50` + bc.extra + `}`)
		if _, err := e.Do(context.Background(), body); err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := e.Do(context.Background(), body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestTopFacetAgreesWithAFullSort checks the selection of the top values
// against sorting them all, with many ties.
func TestTopFacetAgreesWithAFullSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for range 200 {
		n, limit := rng.IntN(300)+1, rng.IntN(40)+1
		counts := make([]facetCount, n)
		var total uint64
		for i := range counts {
			t := intTerm(int64(i))
			counts[i] = facetCount{facetTerm: &t, n: uint64(rng.IntN(12) + 1)}
			total += counts[i].n
		}
		want := slices.Clone(counts)
		slices.SortFunc(want, func(a, b facetCount) int {
			if a.n != b.n {
				return cmp.Compare(b.n, a.n)
			}
			return cmp.Compare(a.num, b.num)
		})
		got := topFacet("f", false, slices.Clone(counts), limit)
		var sum uint64
		for i, v := range got.Values {
			if string(v.Value) != string(want[i].json) || v.Count != want[i].n {
				t.Fatalf("n %d limit %d: value %d is %s:%d, want %s:%d", n, limit, i, v.Value, v.Count, want[i].json, want[i].n)
			}
			sum += v.Count
		}
		if len(got.Values) != min(n, limit) || sum+got.Other != total {
			t.Fatalf("n %d limit %d: %d values, other %d", n, limit, len(got.Values), got.Other)
		}
	}
}

// TestSpanCountIsCardinalityInRange checks the popcount of a span of
// dense words against roaring's count of the same range.
func TestSpanCountIsCardinalityInRange(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for range 300 {
		bm := roaring.New()
		n := uint32(rng.IntN(5000) + 1)
		for range rng.IntN(int(n)) + 1 {
			bm.Add(rng.Uint32N(n))
		}
		if rng.IntN(3) == 0 {
			bm.AddRange(uint64(rng.Uint32N(n)), uint64(n))
		}
		words := bm.ToDense()
		lo := rng.Uint32N(n + 100)
		hi := lo + rng.Uint32N(n+200)
		if got, want := spanCount(words, lo, hi), bm.CardinalityInRange(uint64(lo), uint64(hi)+1); got != want {
			t.Fatalf("span [%d, %d] of %d rows: %d, want %d", lo, hi, bm.GetCardinality(), got, want)
		}
	}
}

// TestFacetSpansCountLikeAndCardinality checks the facets of synth data,
// whose bk_set_id and bk_module_id terms are spans of rows, against an
// AndCardinality of each term with the result, on random synth requests.
func TestFacetSpansCountLikeAndCardinality(t *testing.T) {
	recs, err := synth.Collect(synth.Options{Processes: 6000, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(recs)
	if err != nil {
		t.Fatal(err)
	}
	spans := 0
	for _, name := range []string{"bk_set_id", "bk_module_id"} {
		for _, term := range facetFields[name].terms(e.ix) {
			if term.span {
				spans++
			}
		}
	}
	if spans < 20 {
		t.Fatalf("only %d span terms in synth data", spans)
	}
	reqs, err := synth.Requests(synth.Options{Processes: 6000, Seed: 3}, 80, 7)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, body := range reqs {
		q, err := api.ParseRequest(body)
		if err != nil {
			continue
		}
		pl, err := e.plan(newDeadline(context.Background()), q, nil, nil)
		if err != nil || pl.empty {
			continue
		}
		bm := pl.execute()
		if bm.IsEmpty() {
			continue
		}
		q.Facets, q.FacetLimit = api.FacetFields, api.MaxFacetLimit
		for _, f := range e.facets(q, bm, nil) {
			for _, v := range f.Values {
				want := naiveFacetCount(e, f.Field, v.Value, bm)
				if v.Count != want {
					t.Fatalf("%s facet %s=%s: %d, AndCardinality %d", body, f.Field, v.Value, v.Count, want)
				}
				checked++
			}
		}
	}
	if checked < 200 {
		t.Errorf("only %d facet values checked", checked)
	}
}

// naiveFacetCount is the AndCardinality of bm with the rows of the term of
// field whose JSON is value.
func naiveFacetCount(e *Engine, field string, value []byte, bm *roaring.Bitmap) uint64 {
	for _, term := range facetFields[field].terms(e.ix) {
		if string(term.json) == string(value) && term.rows != nil {
			return bm.AndCardinality(term.rows)
		}
	}
	return 0
}
