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
	rows := newRowSet(cand)
	defer rows.release()
	top := cand.Maximum()
	set := func(perm []uint32) {
		for _, row := range perm {
			if row <= top {
				rows.words[row>>6] |= 1 << (row & 63)
			}
		}
	}
	if first >= last {
		set(o.Perm[a:b])
		return roaring.And(rows.bitmap(), cand)
	}
	set(o.Perm[a : first*step])
	set(o.Perm[last*step : b])
	out := roaring.And(rows.bitmap(), cand)
	core := roaring.And(cand, o.Before(last))
	core.AndNot(o.Before(first))
	out.Or(core)
	return out
}
