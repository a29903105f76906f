package engine

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/procq/procq/index"
)

// TestSkipAgainstNaiveWalk checks the block skip of every order, both
// directions, against a row-by-row count, and the pages a walk that
// skips answers against a full sort (scan).
func TestSkipAgainstNaiveWalk(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	recs := randomRecords(rng, 40000)
	ix := index.Build(recs)
	for biz := int64(1); biz <= 3; biz++ {
		span, _ := ix.Biz(biz)
		for trial := range 12 {
			res := roaring.New()
			density := []int{1, 2, 10, 100}[trial%4]
			for row := span.Lo; row < span.Hi; row++ {
				if rng.IntN(density) == 0 || (trial%3 == 0 && row-span.Lo < uint32(span.Len()/3)) {
					res.Add(row)
				}
			}
			r := res.GetCardinality()
			if r == 0 {
				continue
			}
			for _, k := range []index.Key{index.KeyID, index.KeySetID, index.KeyModuleID, index.KeyProcessName, index.KeyProcessID, index.KeyInnerIP} {
				o := ix.Order(k)
				if trial%4 == 3 {
					// A result in one window of this order, away from
					// both ends (as a range of ids is in the id order).
					res, r = windowResult(rng, o, span), 0
					if r = res.GetCardinality(); r == 0 {
						continue
					}
				}
				for _, forward := range []bool{true, false} {
					from := rng.Uint64N(r)
					if trial%4 == 1 {
						from = 0 // skips only blocks without matches
					}
					// Both ways of testing membership: the bitmap,
					// and the dense copy a long walk takes.
					m := newMembers(res, float64(trial%2)*math.MaxFloat64)
					m.countWords = m.words != nil // blocks counted by bit tests, whatever the density
					done, seen := skip(nil, m, o, span, from, forward)
					if want := (trial%2 == 1); (m.words != nil) != want {
						t.Fatalf("dense copy %v, want %v", m.words != nil, want)
					}
					m.release()
					lo, hi := int(span.Lo), int(span.Lo)+done
					if !forward {
						lo, hi = int(span.Hi)-done, int(span.Hi)
					}
					if want := countPositions(res, o.Perm, lo, hi); seen != want || seen > from {
						t.Fatalf("key %d forward %v from %d: skip says %d matches in [%d, %d), there are %d", k, forward, from, seen, lo, hi, want)
					}
					if edge := map[bool]int{true: hi, false: lo}[forward]; edge != int(span.Lo) && edge != int(span.Hi) && !o.GroupStart(edge) {
						t.Fatalf("key %d forward %v: skip stops at %d, inside a group", k, forward, edge)
					}
					for _, desc := range []bool{false, true} {
						keys := normalizeOrdering([]sortKey{{key: k, desc: desc}, {key: index.KeyModuleID, desc: true}})
						p := &pager{ix: ix, keys: keys}
						to := min(r, from+1+rng.Uint64N(300))
						var got []uint32
						var ok bool
						if forward {
							got, ok = p.walk(res, span, from, to, false, 1<<30)
						} else { // as page walks deep pages: from the far end
							got, ok = p.walk(res, span, r-to, r-from, true, 1<<30)
							slices.Reverse(got)
						}
						want := p.scan(res, r, from, to)
						if !ok || !slices.Equal(got, want) {
							t.Fatalf("key %d desc %v forward %v [%d, %d): walk %v, scan %v", k, desc, forward, from, to, got, want)
						}
					}
				}
			}
		}
	}
}

// windowResult returns about half the rows at a random window of
// positions of o's span that touches neither end of the span.
func windowResult(rng *rand.Rand, o *index.Order, span index.Span) *roaring.Bitmap {
	n := span.Len()
	lo := int(span.Lo) + 1 + rng.IntN(n/2)
	hi := lo + 1 + rng.IntN(int(span.Hi)-lo-1)
	res := roaring.New()
	for _, row := range o.Perm[lo:hi] {
		if rng.IntN(2) == 0 {
			res.Add(row)
		}
	}
	return res
}

// TestRankEdgeAgainstNaive checks rankEdge, both directions, on results
// in windows of every order against the group edge of the first (last)
// matching position found by testing every position.
func TestRankEdgeAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	ix := index.Build(randomRecords(rng, 150000)) // several containers, several prefix steps
	for biz := int64(1); biz <= 3; biz++ {
		span, _ := ix.Biz(biz)
		for trial := range 20 {
			for k := range index.NumKeys {
				o := ix.Order(k)
				res := windowResult(rng, o, span)
				if trial%5 == 0 {
					res = roaring.New()
					res.Add(o.Perm[int(span.Lo)+rng.IntN(span.Len())])
				}
				if res.IsEmpty() {
					continue
				}
				first, last := -1, -1
				for p := int(span.Lo); p < int(span.Hi); p++ {
					if res.Contains(o.Perm[p]) {
						if first < 0 {
							first = p
						}
						last = p
					}
				}
				wantLo, wantHi := first, last+1
				for wantLo > int(span.Lo) && !o.GroupStart(wantLo) {
					wantLo--
				}
				for wantHi < int(span.Hi) && !o.GroupStart(wantHi) {
					wantHi++
				}
				// Both ways: by the prefixes and by the rows' ranks.
				m := &members{bm: res}
				lo, hi := int(span.Lo), int(span.Hi)
				byBlocks := func(fw bool) int {
					// The step's rows tested position by position, as
					// for a step holding many of the result's rows.
					defer func(n uint64) { edgeScanRows = n }(edgeScanRows)
					edgeScanRows = 0
					return rankEdgeByPrefixes(m, o, lo, hi, fw)
				}
				for name, edge := range map[string]func(bool) int{
					"prefixes": func(fw bool) int { return rankEdgeByPrefixes(m, o, lo, hi, fw) },
					"blocks":   byBlocks,
					"rows":     func(fw bool) int { return rankEdgeByRows(res, o, lo, hi, fw) },
				} {
					if got := edge(true); got != wantLo {
						t.Fatalf("biz %d key %d forward, by %s: rankEdge %d, want %d", biz, k, name, got, wantLo)
					}
					if got := edge(false); got != wantHi {
						t.Fatalf("biz %d key %d backward, by %s: rankEdge %d, want %d", biz, k, name, got, wantHi)
					}
				}
			}
		}
	}
}

// TestBigGroupWalkAgainstScan checks pages of orderings whose first key
// has groups of more than bigGroup rows (paged by the second key's order,
// groupPage, or counted by blocks, groupRun) against a full sort, for
// every key alone and every pair of keys, both directions of each,
// shallow and deep pages.
func TestBigGroupWalkAgainstScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	ix := index.Build(randomRecords(rng, 150000))
	big := 0
	for biz := int64(1); biz <= 3; biz++ {
		span, _ := ix.Biz(biz)
		for trial := range 4 {
			res := roaring.New()
			for row := span.Lo; row < span.Hi; row++ {
				if rng.IntN([]int{1, 3, 1, 2}[trial]) == 0 {
					res.Add(row)
				}
			}
			r := res.GetCardinality()
			for k1 := range index.NumKeys {
				o := ix.Order(k1)
				for p := int(span.Lo); p < int(span.Hi); {
					lo, hi := o.GroupOf(p)
					if hi-lo >= bigGroup {
						big++
					}
					p = hi
				}
				for k2 := range index.NumKeys {
					for _, d := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
						keys := []sortKey{{key: k1, desc: d[0]}, {key: k2, desc: d[1]}}
						if k2 == k1 {
							keys = keys[:1] // the first key alone
						}
						p := &pager{ix: ix, keys: normalizeOrdering(keys)}
						from := []uint64{0, rng.Uint64N(r), r - min(r, 30)}[rng.IntN(3)]
						to := min(r, from+1+rng.Uint64N(120))
						want := p.scan(res, r, from, to)
						got, ok := p.walk(res, span, from, to, false, 1<<30)
						rev, okRev := p.walk(res, span, r-to, r-from, true, 1<<30)
						slices.Reverse(rev)
						if !ok || !okRev || !slices.Equal(got, want) || !slices.Equal(rev, want) {
							t.Fatalf("biz %d keys %d,%d desc %v [%d, %d): walk %v, reverse walk %v, scan %v", biz, k1, k2, d, from, to, got, rev, want)
						}
					}
				}
			}
		}
	}
	if big == 0 {
		t.Fatal("no group of the data reaches bigGroup rows: the test does not reach groupPage")
	}
}
