package engine

import (
	"github.com/RoaringBitmap/roaring/v2"

	"procq/index"
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
func skip(dl *deadline, res *roaring.Bitmap, o *index.Order, span index.Span, from uint64, forward bool) (done int, seen uint64) {
	if span.Len() < 2*index.BlockSize {
		return 0, 0
	}
	lo, hi := int(span.Lo), int(span.Hi)
	if forward {
		// Whole blocks after the first boundary past lo, while they all
		// come before the from-th match.
		p := (lo/index.BlockSize + 1) * index.BlockSize
		seen = countPositions(res, o, lo, min(p, hi))
		if seen > from {
			return 0, 0
		}
		for k := p / index.BlockSize; (k+1)*index.BlockSize <= hi; k++ {
			if k%64 == 0 && dl.expired() {
				break
			}
			c := o.Block(k).AndCardinality(res)
			if seen+c > from {
				break
			}
			seen += c
			p = (k + 1) * index.BlockSize
		}
		g := p
		for g > lo && !o.GroupStart(g) {
			g--
		}
		return g - lo, seen - countPositions(res, o, g, p)
	}
	p := (hi - 1) / index.BlockSize * index.BlockSize
	seen = countPositions(res, o, max(p, lo), hi)
	if seen > from || p <= lo {
		return 0, 0
	}
	for k := p/index.BlockSize - 1; k*index.BlockSize >= lo; k-- {
		if k%64 == 0 && dl.expired() {
			break
		}
		c := o.Block(k).AndCardinality(res)
		if seen+c > from {
			break
		}
		seen += c
		p = k * index.BlockSize
	}
	g := p
	for g < hi && !o.GroupStart(g) {
		g++
	}
	return hi - g, seen - countPositions(res, o, p, g)
}

// countPositions counts the rows of res at positions [lo, hi) of o.
func countPositions(res *roaring.Bitmap, o *index.Order, lo, hi int) uint64 {
	var n uint64
	for _, row := range o.Perm[lo:hi] {
		if res.Contains(row) {
			n++
		}
	}
	return n
}
