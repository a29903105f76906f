package engine

import (
	"math"
	"sort"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/procq/procq/index"
)

// skip finds where a walk of o over span may start to reach the from-th
// match of res: it counts the matches of whole blocks of the order
// (index.BlockSize positions, one AndCardinality each) instead of testing
// rows one at a time, then backs up to the start of the group of equal
// keys it landed in, so the walk still sees whole groups. With from 0 it
// skips the blocks holding no match: a result that sits at one end of
// the order (a range of ids) costs a few counts, not a walk. It returns how
// many positions of the span the walk skips from its starting end
// (forward: the first; else the last) and how many matches they hold.
func skip(dl *deadline, m *members, o *index.Order, span index.Span, from uint64, forward bool) (done int, seen uint64) {
	res := m.bm
	if span.Len() < 2*index.BlockSize {
		return 0, 0
	}
	lo, hi := int(span.Lo), int(span.Hi)
	probe := o.Perm[lo : lo+probeFirst]
	if !forward {
		probe = o.Perm[hi-probeFirst : hi]
	}
	if m.count(probe) == 0 {
		// No match near the starting end: the result may sit anywhere
		// in the order (a range of ids at its far end, the addresses of
		// one subnet), so the walk starts at the group of the result's
		// first key, found by the prefix bitmaps, not by counting every
		// block before it.
		if forward {
			lo = rankEdge(m, o, lo, hi, true)
		} else {
			hi = rankEdge(m, o, lo, hi, false)
		}
	}
	edge := int(span.Hi) - hi + lo - int(span.Lo) // positions without a match
	// Counting blocks pays when the walk would visit a few blocks' worth
	// of positions before the from-th match; a first page of a result
	// spread over the order finds its rows within the first few.
	r := res.GetCardinality()
	if from == 0 || hi-lo < 2*index.BlockSize || from*uint64(hi-lo)/max(r, 1) < 2*index.BlockSize {
		return edge, 0
	}
	if forward {
		g, n := skipForward(dl, m, o, lo, hi, from)
		return g - int(span.Lo), n
	}
	g, n := skipBackward(dl, m, o, lo, hi, from)
	return int(span.Hi) - g, n
}

// skipForward counts whole blocks of positions [lo, hi) from lo while
// they all come before the from-th match, and returns the start of the
// group it stops in and the matches before it.
func skipForward(dl *deadline, m *members, o *index.Order, lo, hi int, from uint64) (int, uint64) {
	// Whole blocks after the first boundary past lo, while they all
	// come before the from-th match.
	p := (lo/index.BlockSize + 1) * index.BlockSize
	seen := m.count(o.Perm[lo:min(p, hi)])
	if seen > from {
		return lo, 0
	}
	k, seen := countBlocks(dl, m, o, p/index.BlockSize, 1, lo, hi, from, seen)
	p = k * index.BlockSize
	g := p
	for g > lo && !o.GroupStart(g) {
		g--
	}
	return g, seen - m.count(o.Perm[g:p])
}

// skipBackward is skipForward from hi down: it returns the end of the
// group it stops in and the matches after it.
func skipBackward(dl *deadline, m *members, o *index.Order, lo, hi int, from uint64) (int, uint64) {
	p := (hi - 1) / index.BlockSize * index.BlockSize
	seen := m.count(o.Perm[max(p, lo):hi])
	if seen > from || p <= lo {
		return hi, 0
	}
	k, seen := countBlocks(dl, m, o, p/index.BlockSize-1, -1, lo, hi, from, seen)
	p = (k + 1) * index.BlockSize
	g := p
	for g < hi && !o.GroupStart(g) {
		g++
	}
	return g, seen - m.count(o.Perm[p:g])
}

// countBlocks adds the matches of the whole blocks k, k+step, … inside
// positions [lo, hi) to seen while the sum stays at most from (one
// AndCardinality a block, or a dense copy's bit test a position), and
// returns the first block it did not count.
func countBlocks(dl *deadline, m *members, o *index.Order, k, step, lo, hi int, from, seen uint64) (int, uint64) {
	const bs = index.BlockSize
	for ; k*bs >= lo && (k+1)*bs <= hi; k += step {
		if k%64 == 0 && dl.expired() {
			break
		}
		var c uint64
		if m.countWords {
			c = m.count(o.Perm[k*bs : (k+1)*bs])
		} else {
			c = o.Block(k).AndCardinality(m.bm)
		}
		if seen+c > from {
			break
		}
		seen += c
	}
	return k, seen
}

// rankEdge returns, forward, the start of the group of equal keys
// holding the first position of [lo, hi) whose row is in res; else the
// end of the group holding the last one. Positions before (forward) or
// from (else) it hold no match, and it is a group boundary. res holds
// rows of positions [lo, hi) only. A small result's ranks are read row by
// row; a big one's edge is found by the order's prefix bitmaps.
func rankEdge(m *members, o *index.Order, lo, hi int, forward bool) int {
	if m.bm.GetCardinality() <= edgeScanLimit(forward) {
		return rankEdgeByRows(m.bm, o, lo, hi, forward)
	}
	return rankEdgeByPrefixes(m, o, lo, hi, forward)
}

// rankEdgeByPrefixes is rankEdge by the order's prefix bitmaps: a binary
// search for the step of the order (SuperSize positions) holding the edge,
// then that step's rows of the result (two bitmap operations), whose ranks
// are read when they are few, else whose positions are tested one by one
// against a dense copy of them (intersecting each of the step's blocks
// with the result instead cost a search for ["10.0.1"] on env 0 ordered by
// address, page 3, 0.3 ms at 1M: loadtime -each, BENCHMARKS.md round 5).
func rankEdgeByPrefixes(m *members, o *index.Order, lo, hi int, forward bool) int {
	res, card := m.bm, m.bm.GetCardinality()
	none := hi // where the edge is when res holds no row the order does
	if forward {
		none = lo
	}
	// k: the first prefix holding a row of res (forward) or all of them.
	steps, step := o.NumSupers(), o.SuperSize()
	k := sort.Search(steps+1, func(j int) bool {
		if forward {
			return o.Before(j).Intersects(res)
		}
		return o.Before(j).AndCardinality(res) == card
	})
	if k == 0 || k > steps {
		return none
	}
	in := roaring.And(res, o.Before(k))
	in.AndNot(o.Before(k - 1))
	if in.GetCardinality() <= edgeScanLimit(forward) {
		return rankEdgeByRows(in, o, lo, hi, forward)
	}
	if m.words == nil {
		m = newMembers(in, math.MaxFloat64)
		defer m.release()
	}
	p, ok := edgeIn(m, o.Perm[(k-1)*step:min(k*step, len(o.Perm))], forward)
	if !ok {
		return none
	}
	g, end := o.GroupOf((k-1)*step + p)
	if forward {
		return max(g, lo)
	}
	return min(end, hi)
}

// edgeScanRows is the result size up to which rankEdge reads the rank of
// every result row when it looks forward: for a few thousand rows
// scattered over a sixteenth of the order, that is cheaper than testing
// the sixteenth's positions.
var edgeScanRows uint64 = 16384 // a variable for the tests

// edgeScanLimit is edgeScanRows forward, four times it backward, where
// each probe of the prefix bitmaps is an AndCardinality of the result
// (does the prefix hold all of it?) rather than an Intersects that stops
// at the first common row. At 1M, p50 of each request answered 300
// times, backward limit 16384 against 65536, two processes each,
// alternated (go run ./bench/loadtime -rss=false -pretouch -each -n 300
// -requests TWO.jsonl v3.snap): ["10.0.1"] on env 0 by address, page 3,
// 614-620 -> 499-507 us; ["10.1.1", "area"] likewise (39k rows) 845-846
// -> 636-637 us. 65536 both ways made BenchmarkDo's order_bk_set_id_asc
// (forward) 35 -> 91 us (1M, four alternated runs, benchstat), so
// forward keeps 16384.
func edgeScanLimit(forward bool) uint64 {
	if forward {
		return edgeScanRows
	}
	return 4 * edgeScanRows
}

// rankEdgeByRows is rankEdge by the least (forward) or greatest rank of
// the result's rows, whose group is a binary search of the span.
func rankEdgeByRows(res *roaring.Bitmap, o *index.Order, lo, hi int, forward bool) int {
	if res.IsEmpty() {
		if forward {
			return lo
		}
		return hi
	}
	edge := o.Rank[res.Minimum()]
	buf := make([]uint32, 256)
	it := res.ManyIterator()
	for n := it.NextMany(buf); n > 0; n = it.NextMany(buf) {
		for _, row := range buf[:n] {
			r := o.Rank[row]
			if forward && r < edge || !forward && r > edge {
				edge = r
			}
		}
	}
	a, b := positionsOfRanks(o, index.Span{Lo: uint32(lo), Hi: uint32(hi)}, edge, edge+1)
	if forward {
		return a
	}
	return b
}

// edgeIn returns the index in perm of its first row (forward) or its last
// one in m.
func edgeIn(m *members, perm []uint32, forward bool) (int, bool) {
	for i := range perm {
		if !forward {
			i = len(perm) - 1 - i
		}
		if m.has(perm[i]) {
			return i, true
		}
	}
	return 0, false
}

// probeFirst is how many positions skip tests for a first page before it
// counts blocks: a match among them means the walk ends soon.
const probeFirst = 256

// countPositions counts the rows of res at positions [lo, hi) of perm.
func countPositions(res *roaring.Bitmap, perm []uint32, lo, hi int) uint64 {
	var n uint64
	for _, row := range perm[lo:hi] {
		if res.Contains(row) {
			n++
		}
	}
	return n
}
