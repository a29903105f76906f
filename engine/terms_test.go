package engine

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/procq/procq/index"
	"github.com/procq/procq/internal/synth"
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

// TestRowsWithinMatchesNaive checks every way rowsWithin may take (the
// roaring union, the dense union of ascending or unordered ids, roaring's
// OR, each term ANDed with the candidates, the mask), with terms as ids or as a bitset, against the plain mask, on the dictionaries of a synth
// index with random subsets of terms and random candidates.
func TestRowsWithinMatchesNaive(t *testing.T) {
	recs, err := synth.Collect(synth.Options{Processes: 20000, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	ix := index.Build(recs)
	dicts := []*index.StrTerms{ix.SetName, ix.ModuleName, ix.ServiceName, ix.ProcessName}
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 300 {
		cand := randomCandidates(r, ix.Len())
		if r.IntN(3) == 0 {
			cand.AddRange(0, uint64(ix.Len())) // most rows
		}
		sets := make([]*termSet, 1+r.IntN(2))
		for k := range sets {
			sets[k] = randomTerms(r, dicts[r.IntN(len(dicts))])
		}
		ref := make([]*termSet, len(sets))
		for k, s := range sets {
			ref[k] = &termSet{dict: s.dict, ids: s.ids}
			ref[k].buildMask()
			if r.IntN(3) == 0 {
				// As a dictionary's bitset (ContainingBits) gives them.
				bits := make([]uint64, (s.dict.Len()+63)/64)
				for _, id := range s.ids {
					bits[id>>6] |= 1 << (id & 63)
				}
				s.setBits(bits)
			}
		}
		want := naiveMaskRows(cand, ref)
		if got := rowsWithin(nil, cand, sets...); !got.Equals(want) {
			t.Fatalf("case %d: rowsWithin kept %d rows, the plain mask %d", i, got.GetCardinality(), want.GetCardinality())
		}
		if got := unionWithin(nil, cand, ref); !got.Equals(want) {
			t.Fatalf("case %d: unionWithin kept %d rows, the plain mask %d", i, got.GetCardinality(), want.GetCardinality())
		}
		if got := andEach(cand, termBitmaps(ref)); !got.Equals(want) {
			t.Fatalf("case %d: andEach kept %d rows, the plain mask %d", i, got.GetCardinality(), want.GetCardinality())
		}
		if got := unionWithin(nil, cand, sets); !got.Equals(want) {
			t.Fatalf("case %d: unionWithin of the sets as given kept %d rows, the plain mask %d", i, got.GetCardinality(), want.GetCardinality())
		}
	}
}

// randomTerms returns a set of a few or many terms of dict, ascending,
// shuffled, or a range of its suffix order.
func randomTerms(r *rand.Rand, dict *index.StrTerms) *termSet {
	s := &termSet{dict: dict}
	if r.IntN(4) == 0 {
		lo := r.IntN(dict.Len())
		s.setSuffix(lo, lo+r.IntN(dict.Len()-lo+1))
		return s
	}
	keep := []int{2, 20, 500}[r.IntN(3)]
	for id := range dict.Len() {
		if r.IntN(1000) < keep {
			s.ids = append(s.ids, uint32(id))
		}
	}
	if r.IntN(2) == 0 {
		r.Shuffle(len(s.ids), func(i, j int) { s.ids[i], s.ids[j] = s.ids[j], s.ids[i] })
	}
	return s
}
