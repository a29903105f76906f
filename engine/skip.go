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
// rows of positions [lo, hi) only. A binary search over the order's
// prefix bitmaps finds the sixteenth of the order holding that position,
// its blocks the block, and the block's positions the position: about
// ten bitmap tests and at most BlockSize lookups, where reading the rank
// of every result row cost 0.4-0.8 ms for 500k rows.
func rankEdge(m *members, o *index.Order, lo, hi int, forward bool) int {
	res := m.bm
	if res.GetCardinality() <= edgeScanRows {
		return rankEdgeByRows(res, o, lo, hi, forward)
	}
	return rankEdgeByPrefixes(m, o, lo, hi, forward)
}

// rankEdgeByPrefixes is rankEdge by the order's prefix bitmaps.
func rankEdgeByPrefixes(m *members, o *index.Order, lo, hi int, forward bool) int {
	res := m.bm
	steps, step := o.NumSupers(), o.SuperSize()
	if forward {
		k := sort.Search(steps+1, func(m int) bool { return o.Before(m).Intersects(res) })
		if k == 0 || k > steps {
			return lo // res is empty or holds rows the order does not
		}
		in := inStep(res, o, k)
		if in.GetCardinality() <= edgeScanRows {
			return rankEdgeByRows(in, o, lo, hi, true)
		}
		m = denseFor(m, in)
		defer m.release()
		p, ok := firstIn(m, o, (k-1)*step, min(k*step, len(o.Perm)))
		if !ok {
			return lo
		}
		g, _ := o.GroupOf(p)
		return max(g, lo)
	}
	card := res.GetCardinality()
	k := sort.Search(steps+1, func(m int) bool { return o.Before(m).AndCardinality(res) == card })
	if k == 0 || k > steps {
		return hi
	}
	in := inStep(res, o, k)
	if in.GetCardinality() <= edgeScanRows {
		return rankEdgeByRows(in, o, lo, hi, false)
	}
	m = denseFor(m, in)
	defer m.release()
	p, ok := lastIn(m, o, (k-1)*step, min(k*step, len(o.Perm)))
	if !ok {
		return hi
	}
	_, g := o.GroupOf(p)
	return min(g, hi)
}

// inStep returns the rows of res in the k-th step of o's prefixes
// (positions [(k-1)·SuperSize, k·SuperSize)): two bitmap operations, where
// finding the edge among them block by block cost an intersection a
// block (0.3 ms for a search's 54k rows at 1M).
func inStep(res *roaring.Bitmap, o *index.Order, k int) *roaring.Bitmap {
	in := roaring.And(res, o.Before(k))
	in.AndNot(o.Before(k - 1))
	return in
}

// denseFor returns m when it has a dense copy, else a dense copy of in
// (the result's rows in the step the edge is in, where firstIn and
// lastIn look): testing a step's positions by bits costs less than an
// intersection a block. Release it after use.
func denseFor(m *members, in *roaring.Bitmap) *members {
	if m.words != nil {
		return &members{bm: m.bm, words: m.words} // released by its owner
	}
	return newMembers(in, math.MaxFloat64)
}

// edgeScanRows is the result size up to which rankEdge reads the rank of
// every result row: for a few thousand rows scattered over a sixteenth
// of the order, that is cheaper than testing the sixteenth's blocks (a
// search for "10.1.1" and "area" ordered by address, 0.9 ms in lastIn).
var edgeScanRows uint64 = 16384 // a variable for the tests

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

// firstIn returns the first position of [a, b) whose row is in res,
// skipping the blocks that hold none; a is a block boundary.
func firstIn(m *members, o *index.Order, a, b int) (int, bool) {
	for k := a / index.BlockSize; k*index.BlockSize < b; k++ {
		if m.words == nil && !o.Block(k).Intersects(m.bm) {
			continue // with a dense copy, testing the block's positions is cheaper
		}
		for p := k * index.BlockSize; p < min(b, (k+1)*index.BlockSize); p++ {
			if m.has(o.Perm[p]) {
				return p, true
			}
		}
	}
	return 0, false
}

// lastIn returns the last position of [a, b) whose row is in res.
func lastIn(m *members, o *index.Order, a, b int) (int, bool) {
	for k := (b - 1) / index.BlockSize; k >= 0 && (k+1)*index.BlockSize > a; k-- {
		if m.words == nil && !o.Block(k).Intersects(m.bm) {
			continue
		}
		for p := min(b, (k+1)*index.BlockSize) - 1; p >= max(a, k*index.BlockSize); p-- {
			if m.has(o.Perm[p]) {
				return p, true
			}
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
