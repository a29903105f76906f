package engine

import (
	"sort"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/procq/procq/index"
)

// positionsOfRanks returns the positions [a, b) of span in o whose rows
// have key ranks in [i, j): o orders the span by rank, so they are one
// stretch of it.
func positionsOfRanks(o *index.Order, span index.Span, i, j uint32) (a, b int) {
	perm := o.Perm[span.Lo:span.Hi]
	a = sort.Search(len(perm), func(p int) bool { return o.Rank[perm[p]] >= i })
	b = a + sort.Search(len(perm)-a, func(p int) bool { return o.Rank[perm[a+p]] >= j })
	return int(span.Lo) + a, int(span.Lo) + b
}

// rowsAtPositions returns the rows of cand at positions [a, b) of o. The
// whole prefix steps inside the range are the difference of two prefix
// bitmaps (index.Order.Before), intersected with cand a container at a
// time; only the rows of the two partial steps at its edges are read one
// by one. A range of half a million positions costs two bitmap
// operations and at most two steps' rows, where setting each row's bit
// cost about a nanosecond a row.
func rowsAtPositions(o *index.Order, a, b int, cand *roaring.Bitmap) *roaring.Bitmap {
	step := o.SuperSize()
	first, last := (a+step-1)/step, b/step // whole steps [first, last)
	// The edges' rows of cand are set in rows, tested against cand
	// written out densely: both arrays are pooled, and only the few rows
	// set make a bitmap (no And of a bitmap of every edge row).
	in, rows := newRowSet(cand), newRowSet(cand)
	defer in.release()
	defer rows.release()
	cand.WriteDenseTo(in.words)
	set := func(perm []uint32) {
		for _, row := range perm {
			if w := row >> 6; int(w) < len(in.words) {
				rows.words[w] |= in.words[w] & (1 << (row & 63))
			}
		}
	}
	if first >= last {
		set(o.Perm[a:b])
		return rows.bitmap()
	}
	set(o.Perm[a : first*step])
	set(o.Perm[last*step : b])
	out := rows.bitmap()
	core := roaring.And(cand, o.Before(last))
	core.AndNot(o.Before(first))
	out.Or(core)
	return out
}

// groupRun returns the rows of the group at positions [lo, hi) of o that
// a walk's page [from, to) takes, seen matches having come before the
// group, when the group's order is its positions' (backwards when
// reverse), and how many matches of the group the walk has now passed:
// all of them, or up to the page's end when the page ends inside it. The
// matches before the page are counted a block at a time (nthMatch), so
// a deep page landing in a group of 90k rows does not test each of them.
func groupRun(res *roaring.Bitmap, o *index.Order, lo, hi int, seen, from, to uint64, reverse bool) ([]uint32, uint64) {
	start := uint64(0)
	if from > seen {
		start = from - seen
	}
	p, ok := nthMatch(res, o, lo, hi, start, !reverse)
	if !ok {
		return nil, matchesIn(res, o, lo, hi)
	}
	need := int(to - seen - start)
	rows := make([]uint32, 0, need)
	step := 1
	if reverse {
		step = -1
	}
	for ; p >= lo && p < hi && len(rows) < need; p += step {
		if row := o.Perm[p]; res.Contains(row) {
			rows = append(rows, row)
		}
	}
	return rows, start + uint64(len(rows))
}

// nthMatch returns the position of the n-th (from 0) row of res among
// positions [a, b) of o, counted from a (forward) or from b-1: whole
// blocks are counted with one AndCardinality each while they end before
// it.
func nthMatch(res *roaring.Bitmap, o *index.Order, a, b int, n uint64, forward bool) (int, bool) {
	const bs = index.BlockSize
	for i := 0; i < b-a; i++ {
		// start: where p's block begins, if the walk enters the block at p.
		p, start := a+i, a+i
		if !forward {
			p = b - 1 - i
			start = p + 1 - bs
		}
		if start%bs == 0 && start >= a && start+bs <= b {
			if c := o.Block(start / bs).AndCardinality(res); c <= n {
				n -= c
				i += bs - 1
				continue
			}
		}
		if res.Contains(o.Perm[p]) {
			if n == 0 {
				return p, true
			}
			n--
		}
	}
	return 0, false
}

// matchesIn counts the rows of res at positions [a, b) of o: whole blocks
// with one AndCardinality each, the edges one position at a time.
func matchesIn(res *roaring.Bitmap, o *index.Order, a, b int) uint64 {
	const bs = index.BlockSize
	first, last := (a+bs-1)/bs, b/bs
	if first >= last {
		return countPositions(res, o.Perm, a, b)
	}
	n := countPositions(res, o.Perm, a, first*bs) + countPositions(res, o.Perm, last*bs, b)
	for k := first; k < last; k++ {
		n += o.Block(k).AndCardinality(res)
	}
	return n
}
