package engine

import (
	"math/rand/v2"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/procq/procq/index"
)

// TestRowsAtPositionsAgainstNaive checks rowsAtPositions on random ranges
// of positions of every order, candidates of several densities, against
// the rows of those positions added one by one; and positionsOfRanks
// against a scan of the span.
func TestRowsAtPositionsAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	ix := index.Build(randomRecords(rng, 150000)) // several containers and prefix steps
	for biz := int64(1); biz <= 3; biz++ {
		span, _ := ix.Biz(biz)
		for trial := range 30 {
			cand := roaring.New()
			density := []int{1, 2, 50}[trial%3]
			for row := span.Lo; row < span.Hi; row++ {
				if rng.IntN(density) == 0 {
					cand.Add(row)
				}
			}
			if cand.IsEmpty() {
				continue
			}
			for k := range index.NumKeys {
				o := ix.Order(k)
				a := int(span.Lo) + rng.IntN(span.Len())
				b := a + rng.IntN(int(span.Hi)-a+1)
				if trial%5 == 0 {
					a, b = int(span.Lo), int(span.Hi)
				}
				want := roaring.New()
				for _, row := range o.Perm[a:b] {
					if cand.Contains(row) {
						want.Add(row)
					}
				}
				if got := rowsAtPositions(o, a, b, cand); !got.Equals(want) {
					t.Fatalf("biz %d key %d [%d, %d): %d rows, want %d", biz, k, a, b, got.GetCardinality(), want.GetCardinality())
				}
			}
			o := ix.Order(index.KeyProcessID)
			i, j := rng.Uint32N(uint32(ix.Len())), rng.Uint32N(uint32(ix.Len()))
			a, b := positionsOfRanks(o, span, i, j)
			for p := int(span.Lo); p < int(span.Hi); p++ {
				r := o.Rank[o.Perm[p]]
				if in := p >= a && p < b; in != (r >= i && r < j) {
					t.Fatalf("biz %d ranks [%d, %d): positions [%d, %d), position %d has rank %d", biz, i, j, a, b, p, r)
				}
			}
		}
	}
}
