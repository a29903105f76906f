package engine

import (
	"cmp"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/procq/procq/index"
)

// sparseWalk is how many span positions per result row from which a
// walk in the order of positions goes a block at a time (walkBlocks)
// rather than testing each position: at one match in four positions or
// fewer, a block's matches sorted by position cost less than a Contains
// per position.
const sparseWalk = 4

// posRow is a row with its place in an order: key is (rank, process id
// rank), ties broken by row, which within a business is Perm's order.
type posRow struct {
	key uint64
	row uint32
}

// walkBlocks is walk for a traversal that is Perm's order of positions
// (forward) or its reverse, over a sparse result: from done positions
// past the traversal's start, it takes the result rows of each block of
// o with one And (a whole block it can pass is counted, not read), keeps
// those not before the current position, and orders them by position.
// pid is the process id order, whose ranks break o's ties. seen result
// rows come before the walk; it returns the rows at traversal positions
// [from, to).
func walkBlocks(dl *deadline, res *roaring.Bitmap, o, pid *index.Order, span index.Span, done int, seen, from, to uint64, forward bool) []uint32 {
	const bs = index.BlockSize
	out := make([]uint32, 0, to-from)
	var rows []posRow
	lo, hi := int(span.Lo), int(span.Hi)
	for blocks := 0; seen < to; blocks++ {
		if blocks%checkEvery == 0 && dl.expired() {
			return nil
		}
		// [a, b): the positions left to visit in the next block.
		var a, b int
		if forward {
			a = lo + done
			b = min((a/bs+1)*bs, hi)
		} else {
			b = hi - done
			a = max((b-1)/bs*bs, lo)
		}
		if a >= b {
			break
		}
		done += b - a
		blk := o.Block(a / bs)
		whole := a%bs == 0 && (b%bs == 0 || b == len(o.Perm))
		if whole && seen < from {
			if c := blk.AndCardinality(res); seen+c <= from {
				seen += c
				continue
			}
		}
		rows = positioned(res, blk, o, pid, rows[:0])
		if !whole {
			rows = between(rows, o, pid, o.Perm[a], o.Perm[b-1])
		}
		if !forward {
			slices.Reverse(rows)
		}
		for _, pr := range rows {
			if seen >= from && seen < to {
				out = append(out, pr.row)
			}
			seen++
		}
	}
	return out
}

// positioned appends to rows the rows of res in blk, ordered by their
// positions in o.
func positioned(res, blk *roaring.Bitmap, o, pid *index.Order, rows []posRow) []posRow {
	m := roaring.And(res, blk)
	rows = slices.Grow(rows, int(m.GetCardinality()))
	it := m.Iterator()
	for it.HasNext() {
		row := it.Next()
		rows = append(rows, posRow{placeKey(o, pid, row), row})
	}
	slices.SortFunc(rows, comparePos)
	return rows
}

// between returns the rows of sorted rows placed from first's position to
// last's, both in the same business as the rows.
func between(rows []posRow, o, pid *index.Order, first, last uint32) []posRow {
	f, l := posRow{placeKey(o, pid, first), first}, posRow{placeKey(o, pid, last), last}
	i, _ := slices.BinarySearchFunc(rows, f, comparePos)
	j, found := slices.BinarySearchFunc(rows, l, comparePos)
	if found {
		j++
	}
	return rows[i:max(i, j)]
}

func placeKey(o, pid *index.Order, row uint32) uint64 {
	return uint64(o.Rank[row])<<32 | uint64(pid.Rank[row])
}

func comparePos(a, b posRow) int {
	if c := cmp.Compare(a.key, b.key); c != 0 {
		return c
	}
	return cmp.Compare(a.row, b.row)
}
