package engine

import (
	"cmp"
	"math/bits"
	"slices"
	"strconv"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/procq/procq/api"
	"github.com/procq/procq/index"
	"github.com/procq/procq/record"
)

// facetTerm is one value of a facet field: its JSON, its sort key and the
// base rows holding it.
type facetTerm struct {
	json []byte
	num  int64 // sort key of numbers and booleans
	str  string
	rows *roaring.Bitmap
	// lo and hi are the first and last row of rows, set by cachedTerms:
	// a term outside the result's range is skipped without a count.
	lo, hi uint32
	// span is true when rows is every row of [lo, hi] (rows are sorted by
	// topology, so each bk_set_id and bk_module_id is one span): its
	// count is a popcount of the result's words over the span.
	span bool
}

// facetField is how the engine counts one facet field: the terms of the
// base, and the value of a delta record.
type facetField struct {
	terms func(ix *index.Index) []facetTerm
	value func(r *record.Record) facetTerm
	isStr bool
}

var facetFields = map[string]facetField{
	"process_status": {
		terms: func(ix *index.Index) []facetTerm { return fixedTerms(ix.Status, intTerm, 0, 1, 2) },
		value: func(r *record.Record) facetTerm { return intTerm(r.ProcessStatus) },
	},
	"is_auto": {
		terms: func(ix *index.Index) []facetTerm {
			return fixedTerms(ix.IsAuto, func(v int64) facetTerm { return boolTerm(v == 1) }, 0, 1)
		},
		value: func(r *record.Record) facetTerm { return boolTerm(r.IsAuto) },
	},
	"bk_set_id": {
		terms: func(ix *index.Index) []facetTerm { return distinctTerms(ix.SetID) },
		value: func(r *record.Record) facetTerm { return intTerm(r.SetID) },
	},
	"bk_module_id": {
		terms: func(ix *index.Index) []facetTerm { return distinctTerms(ix.ModuleID) },
		value: func(r *record.Record) facetTerm { return intTerm(r.ModuleID) },
	},
	"bk_cloud_id": {
		terms: func(ix *index.Index) []facetTerm { return distinctTerms(ix.CloudID) },
		value: func(r *record.Record) facetTerm { return intTerm(r.CloudID) },
	},
	"bk_process_name": {
		terms: func(ix *index.Index) []facetTerm { return strTerms(ix.ProcessName) },
		value: func(r *record.Record) facetTerm { return strTerm(r.ProcessName) },
		isStr: true,
	},
	"bk_set_env": {
		terms: func(ix *index.Index) []facetTerm { return strTerms(ix.Env) },
		value: func(r *record.Record) facetTerm { return strTerm(r.SetEnv) },
		isStr: true,
	},
}

func intTerm(v int64) facetTerm {
	return facetTerm{json: strconv.AppendInt(nil, v, 10), num: v}
}

func boolTerm(v bool) facetTerm {
	if v {
		return facetTerm{json: []byte("true"), num: 1}
	}
	return facetTerm{json: []byte("false"), num: 0}
}

func strTerm(s string) facetTerm { return facetTerm{json: record.AppendString(nil, s), str: s} }

// fixedTerms is the terms of a field with a few known values, written by
// mk; is_auto's are 0 and 1 for false and true.
func fixedTerms(t *index.IntTerms, mk func(int64) facetTerm, vals ...int64) []facetTerm {
	out := make([]facetTerm, len(vals))
	for i, v := range vals {
		out[i] = mk(v)
		out[i].rows = t.Get(v)
	}
	return out
}

// strTerms is every term of a string field.
func strTerms(t *index.StrTerms) []facetTerm {
	return cachedTerms(t, func() []facetTerm {
		out := make([]facetTerm, t.Len())
		for id := range out {
			out[id] = strTerm(t.Term(uint32(id)))
			out[id].rows = t.Rows(uint32(id))
		}
		return out
	})
}

// termsCache keeps the facet terms of the term indexes recently faceted
// (an index of terms is immutable, and status writes share those of the
// topology fields): their values, JSON and row bitmaps are built once,
// not per query. Package index does not list the values of an integer
// field, so those are read from the records, once.
var termsCache struct {
	sync.Mutex
	m    map[any][]facetTerm
	keys []any
}

// termsCacheSize bounds the term indexes termsCache keeps.
const termsCacheSize = 10

// cachedTerms returns the facet terms of the term index key, built by
// build on first use.
func cachedTerms(key any, build func() []facetTerm) []facetTerm {
	c := &termsCache
	c.Lock()
	defer c.Unlock()
	if v, ok := c.m[key]; ok {
		return v
	}
	v := build()
	for i := range v {
		if v[i].rows != nil && !v[i].rows.IsEmpty() {
			v[i].lo, v[i].hi = v[i].rows.Minimum(), v[i].rows.Maximum()
			v[i].span = v[i].rows.GetCardinality() == uint64(v[i].hi-v[i].lo)+1
		}
	}
	if c.m == nil {
		c.m = make(map[any][]facetTerm)
	}
	if len(c.keys) == termsCacheSize {
		delete(c.m, c.keys[0])
		c.keys = c.keys[1:]
	}
	c.m[key], c.keys = v, append(c.keys, key)
	return v
}

// distinctTerms is every value of an integer field whose index is t, in
// ascending order (values without rows count 0 and are left out later).
func distinctTerms(t *index.IntTerms) []facetTerm {
	return cachedTerms(t, func() []facetTerm {
		vals := t.Values()
		out := make([]facetTerm, len(vals))
		for i, v := range vals {
			out[i] = intTerm(v)
			out[i].rows = t.Get(v)
		}
		return out
	})
}

// facets counts each asked field over the result: the live base rows bm
// (tombstones already removed; nil when none) and the delta matches dm.
func (e *Engine) facets(q *api.Query, bm *roaring.Bitmap, dm []*record.Record) []api.Facet {
	out := make([]api.Facet, 0, len(q.Facets))
	var rc resultCounter
	for _, name := range q.Facets {
		f := facetFields[name]
		delta := deltaCounts(f, dm)
		var counts []facetCount
		if bm != nil {
			counts = rc.count(bm, f.terms(e.ix), delta)
		}
		for _, d := range delta {
			counts = append(counts, *d)
		}
		out = append(out, topFacet(name, f.isStr, counts, q.FacetLimit))
	}
	return out
}

// deltaCounts counts the values of field f in the delta matches dm, by
// the values' JSON.
func deltaCounts(f facetField, dm []*record.Record) map[string]*facetCount {
	delta := map[string]*facetCount{}
	for _, r := range dm {
		t := f.value(r)
		if c, ok := delta[string(t.json)]; ok {
			c.n++
		} else {
			delta[string(t.json)] = &facetCount{facetTerm: &t, n: 1}
		}
	}
	return delta
}

// resultCounter counts the rows of a result bm that hold each term: one
// AndCardinality per term, except for a term whose rows are a span,
// counted by a popcount of bm's words over the span (bm's words are
// copied once per request, on the first span: a pass over bm's
// containers, not its rows). BenchmarkFacets/seven at 1M (648k-row
// result): 5.1 ms with an AndCardinality per term (15k set and module
// terms at about 80 ns each), 1.4 ms with spans; what remains is mostly
// the AndCardinality of the array containers of the process-name terms.
type resultCounter struct {
	words []uint64 // bm as a dense bitmap, once a span is counted
}

// count returns the nonzero counts of terms in bm, the delta's counts of
// the same values added (and removed from delta).
func (rc *resultCounter) count(bm *roaring.Bitmap, terms []facetTerm, delta map[string]*facetCount) []facetCount {
	lo, hi := bm.Minimum(), bm.Maximum()
	counts := make([]facetCount, 0, min(len(terms), 1024))
	for i := range terms {
		t := &terms[i]
		if t.rows == nil || (t.hi != 0 || t.lo != 0) && (t.hi < lo || t.lo > hi) {
			continue
		}
		var n uint64
		if t.span {
			if rc.words == nil {
				rc.words = bm.ToDense()
			}
			n = spanCount(rc.words, t.lo, t.hi)
		} else {
			n = bm.AndCardinality(t.rows)
		}
		if len(delta) > 0 {
			if d, ok := delta[string(t.json)]; ok {
				n += d.n
				delete(delta, string(t.json))
			}
		}
		if n > 0 {
			counts = append(counts, facetCount{facetTerm: t, n: n})
		}
	}
	return counts
}

// spanCount is the number of set bits of the dense bitmap words in rows
// [lo, hi].
func spanCount(words []uint64, lo, hi uint32) uint64 {
	wl, wh := int(lo>>6), int(hi>>6)
	if wl >= len(words) {
		return 0
	}
	first := ^uint64(0) << (lo & 63)
	last := ^uint64(0) >> (63 - hi&63)
	if wh >= len(words) {
		wh, last = len(words)-1, ^uint64(0)
	}
	if wl == wh {
		return uint64(bits.OnesCount64(words[wl] & first & last))
	}
	n := bits.OnesCount64(words[wl]&first) + bits.OnesCount64(words[wh]&last)
	for _, w := range words[wl+1 : wh] {
		n += bits.OnesCount64(w)
	}
	return uint64(n)
}

// addFacets sets res.Facets when q asks for facets.
func (e *Engine) addFacets(x *explainer, q *api.Query, res *Result, bm *roaring.Bitmap, dm []*record.Record) {
	if len(q.Facets) == 0 {
		return
	}
	x.mark()
	res.Facets = e.facets(q, bm, dm)
	x.step("facets", card(bm)+uint64(len(dm)), uint64(len(q.Facets)), q.Facets, len(q.Facets))
}

// facetCount is a value's count; the term is shared with the terms cache
// (read only).
type facetCount struct {
	*facetTerm
	n uint64
}

// topFacet keeps the limit most frequent values: count descending, then
// value ascending. Only the values whose count reaches the limit-th
// largest are sorted.
func topFacet(name string, isStr bool, counts []facetCount, limit int) api.Facet {
	var total uint64
	for _, c := range counts {
		total += c.n
	}
	cand := counts
	if len(counts) > 2*limit {
		th := kthLargest(counts, limit)
		cand = make([]facetCount, 0, limit+8)
		for _, c := range counts {
			if c.n >= th {
				cand = append(cand, c)
			}
		}
	}
	slices.SortFunc(cand, func(a, b facetCount) int {
		if c := cmp.Compare(b.n, a.n); c != 0 {
			return c
		}
		if isStr {
			return cmp.Compare(a.str, b.str)
		}
		return cmp.Compare(a.num, b.num)
	})
	f := api.Facet{Field: name, Values: make([]api.FacetValue, 0, min(limit, len(cand))), Other: total}
	for _, c := range cand[:min(limit, len(cand))] {
		f.Values = append(f.Values, api.FacetValue{Value: c.json, Count: c.n})
		f.Other -= c.n
	}
	return f
}

// kthLargest returns the k-th largest count of counts (k <= len(counts)),
// keeping the k largest seen in an ascending slice.
func kthLargest(counts []facetCount, k int) uint64 {
	top := make([]uint64, 0, k)
	for _, c := range counts {
		switch {
		case len(top) < k:
			i, _ := slices.BinarySearch(top, c.n)
			top = slices.Insert(top, i, c.n)
		case c.n > top[0]:
			i, _ := slices.BinarySearch(top, c.n)
			copy(top[:i-1], top[1:i])
			top[i-1] = c.n
		}
	}
	return top[0]
}
