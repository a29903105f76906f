package engine

import (
	"slices"
	"strings"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/procq/procq/expr"
	"github.com/procq/procq/index"
)

// BenchmarkRowsWithin times each way rowsWithin may take on the benchmark
// engine's dictionaries, side by side, for the term sets the suite's
// queries produce: go test ./engine -run '^$' -bench RowsWithin, with
// PROCQ_BENCH_PROCESSES=1000000. The costs of rowsWithin's choice
// (termCost, sortedTermCost, smallUnionRows) come from it.
func BenchmarkRowsWithin(b *testing.B) {
	e, err := benchEngine()
	if err != nil {
		b.Fatal(err)
	}
	ix := e.ix
	cand := ix.Env.Get("3")
	if cand == nil {
		b.Skip("no rows of set env 3")
	}
	ten, err := expr.Parse("[1-255].[0-255].[0-255].[0-255]_[gse, nginx, redis][_,-][a-z][a-z][a-z,-][a-z,0-9]*")
	if err != nil {
		b.Fatal(err)
	}
	suffix := slices.Clone(ix.ServiceName.SuffixTerms("_gse_agent"))
	cases := []struct {
		name string
		dict *index.StrTerms
		ids  []uint32
	}{
		{"suffix_unordered", ix.ServiceName, suffix},
		{"suffix_ascending", ix.ServiceName, slices.Sorted(slices.Values(suffix))},
		{"ten_groups", ix.ServiceName, termsWhere(ix.ServiceName, ten.Match)},
		{"cloud_area", ix.CloudName, termsWhere(ix.CloudName, func(t string) bool { return strings.Contains(t, "area") })},
	}
	ways := []struct {
		name string
		rows func(s *termSet) *roaring.Bitmap
	}{
		{"roaring", func(s *termSet) *roaring.Bitmap {
			return roaring.And(index.Union(termBitmaps([]*termSet{s})...), cand)
		}},
		{"dense", func(s *termSet) *roaring.Bitmap { return unionWithin(nil, cand, []*termSet{s}) }},
		{"mask", func(s *termSet) *roaring.Bitmap { s.buildMask(); return maskRows(nil, cand, []*termSet{s}) }},
	}
	for _, c := range cases {
		for _, w := range ways {
			b.Run(c.name+"/"+w.name, func(b *testing.B) {
				for b.Loop() {
					w.rows(&termSet{dict: c.dict, ids: c.ids})
				}
			})
		}
	}
}

// termsWhere returns the ids of the terms of dict for which keep is true.
func termsWhere(dict *index.StrTerms, keep func(string) bool) []uint32 {
	var ids []uint32
	for id := range uint32(dict.Len()) {
		if keep(dict.Term(id)) {
			ids = append(ids, id)
		}
	}
	return ids
}
