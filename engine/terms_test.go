package engine

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
)

// naiveMaskRows is the plain mask path maskRows replaces: each candidate
// row's term tested against each set's mask.
func naiveMaskRows(cand *roaring.Bitmap, sets []*termSet) *roaring.Bitmap {
	out := roaring.New()
	it := cand.Iterator()
	for it.HasNext() {
		row := it.Next()
		for _, s := range sets {
			if id := s.rowTerm[row]; s.mask[id>>6]&(1<<(id&63)) != 0 {
				out.Add(row)
				break
			}
		}
	}
	return out
}

// randomCandidates returns rows of [0, n) mixing long runs (full words),
// dense words, sparse rows and the last row.
func randomCandidates(r *rand.Rand, n int) *roaring.Bitmap {
	b := roaring.New()
	for range r.IntN(6) {
		lo := r.IntN(n)
		b.AddRange(uint64(lo), uint64(min(n, lo+r.IntN(3000))))
	}
	for range r.IntN(4) {
		word := r.IntN((n + 63) / 64)
		for j := range 64 {
			if row := word*64 + j; row < n && r.IntN(4) != 0 {
				b.Add(uint32(row))
			}
		}
	}
	for range r.IntN(300) {
		b.Add(uint32(r.IntN(n)))
	}
	if r.IntN(2) == 0 {
		b.Add(uint32(n - 1))
	}
	return b
}

// randomTermSets returns one to three sets over the same rows, each with a
// row → term column of nTerms terms (in runs, as topology order makes
// them) and a random mask.
func randomTermSets(r *rand.Rand, n int) []*termSet {
	sets := make([]*termSet, 1+r.IntN(3))
	for k := range sets {
		nTerms := 1 + r.IntN(300)
		s := &termSet{rowTerm: make([]uint32, n), mask: make([]uint64, (nTerms+63)/64)}
		for row := 0; row < n; {
			id, run := uint32(r.IntN(nTerms)), 1+r.IntN(8)
			for ; run > 0 && row < n; run, row = run-1, row+1 {
				s.rowTerm[row] = id
			}
		}
		density := r.IntN(5) // none, some, half, most, all terms
		for id := range nTerms {
			if r.IntN(4) < density {
				s.mask[id>>6] |= 1 << (id & 63)
			}
		}
		sets[k] = s
	}
	return sets
}

func TestMaskRowsMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for i := range 500 {
		n := 1 + r.IntN(5000)
		cand, sets := randomCandidates(r, n), randomTermSets(r, n)
		want := naiveMaskRows(cand, sets)
		if got := maskRows(nil, cand, sets); !got.Equals(want) {
			t.Fatalf("case %d (n %d, %d sets): maskRows kept %d rows, the plain mask %d",
				i, n, len(sets), got.GetCardinality(), want.GetCardinality())
		}
	}
}

func TestMaskRowsEmptyAndExpired(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	sets := randomTermSets(r, 1000)
	if got := maskRows(nil, roaring.New(), sets); !got.IsEmpty() {
		t.Errorf("empty candidates: kept %d rows", got.GetCardinality())
	}
	all := roaring.New()
	all.AddRange(0, 1000)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dl := &deadline{ctx: ctx}
	if got := maskRows(dl, all, sets); !got.IsEmpty() {
		t.Errorf("expired deadline: kept %d rows, want none", got.GetCardinality())
	}
}
