package index

import (
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
)

// BlockSize is how many positions of an Order's Perm one block bitmap
// covers: Order.Block.
const BlockSize = 4096

// ProcessRowsByRank returns the rows of the processes of id ranks [i, j)
// (ProcessRanks), in ascending id order. Shared: read only.
func (ix *Index) ProcessRowsByRank(i, j uint32) []uint32 { return ix.pidRows[i:j] }

// Block returns the rows at positions [k·BlockSize, (k+1)·BlockSize) of
// Perm as a bitmap, so a result's matches in a whole block are one
// AndCardinality (a rank directory over the order). Shared: read only.
func (o *Order) Block(k int) *roaring.Bitmap { return o.blocks[k] }

// NumBlocks returns the number of blocks of the order.
func (o *Order) NumBlocks() int { return len(o.blocks) }

// buildBlocks makes the block bitmaps of perm.
func buildBlocks(perm []uint32) []*roaring.Bitmap {
	blocks := make([]*roaring.Bitmap, (len(perm)+BlockSize-1)/BlockSize)
	buf := make([]uint32, BlockSize)
	for k := range blocks {
		rows := append(buf[:0], perm[k*BlockSize:min(len(perm), (k+1)*BlockSize)]...)
		b := roaring.New()
		slices.Sort(rows)
		b.AddMany(rows)
		b.RunOptimize()
		blocks[k] = b
	}
	return blocks
}

// prefixSteps is about how many prefix bitmaps an order keeps: enough
// that a search over them narrows to a sixteenth of the positions, few
// enough that they cost a couple of bytes a row for an order that
// scatters rows (each is at most one bit a row).
const prefixSteps = 16

// prefixes are an order's prefix bitmaps: bms[m] holds the rows of
// positions [0, (m+1)·step). A loaded index builds them in the
// background (ready is closed once they are); a built one before Build
// returns (ready nil).
type prefixes struct {
	ready chan struct{}
	step  int
	bms   []*roaring.Bitmap
}

// wait returns p once its bitmaps are built.
func (p *prefixes) wait() *prefixes {
	if p.ready != nil {
		<-p.ready
	}
	return p
}

// SuperSize returns how many positions of Perm one step of Before covers:
// a multiple of BlockSize.
func (o *Order) SuperSize() int { return o.pre.wait().step }

// NumSupers returns how many steps Before has: Before(NumSupers()) holds
// every row.
func (o *Order) NumSupers() int { return len(o.pre.wait().bms) }

// Before returns the rows at positions [0, m·SuperSize) of Perm, for m in
// [0, NumSupers()]: with the block bitmaps, the rows at any range of
// positions are a difference of two prefixes and a few edge blocks, and
// the first position holding a row of a set is a binary search over the
// prefixes. Shared: read only.
func (o *Order) Before(m int) *roaring.Bitmap {
	if m == 0 {
		return emptyBitmap
	}
	return o.pre.wait().bms[m-1]
}

// emptyBitmap is Before(0). Shared: read only.
var emptyBitmap = roaring.New()

// superSize returns the positions a prefix step covers for an order of n
// positions.
func superSize(n int) int {
	blocks := (n + BlockSize - 1) / BlockSize
	return max(1, (blocks+prefixSteps-1)/prefixSteps) * BlockSize
}

// buildPrefixes returns the prefix bitmaps of perm (Before): one pass
// setting the rows of each step in a dense array, copied out at each
// step's end.
func buildPrefixes(perm []uint32) *prefixes {
	p := &prefixes{step: superSize(len(perm))}
	p.fill(perm)
	return p
}

// fill builds the bitmaps of p (its step set) from perm.
func (p *prefixes) fill(perm []uint32) {
	words := make([]uint64, (len(perm)+63)/64)
	p.bms = make([]*roaring.Bitmap, 0, (len(perm)+p.step-1)/p.step)
	for lo := 0; lo < len(perm); lo += p.step {
		for _, row := range perm[lo:min(lo+p.step, len(perm))] {
			if int(row>>6) < len(words) {
				words[row>>6] |= 1 << (row & 63)
			}
		}
		b := roaring.FromDense(words, true) // words goes on changing
		b.RunOptimize()
		p.bms = append(p.bms, b)
	}
}

// buildPrefixesLater returns the prefix bitmaps of every order of ix,
// built on two goroutines after a load: about 40 ms of CPU at 1M that
// a load need not wait for. Before waits for them.
func buildPrefixesLater(ix *Index) {
	next := make(chan int, NumKeys)
	for k := range NumKeys {
		o := &ix.orders[k]
		o.pre = &prefixes{ready: make(chan struct{}), step: superSize(len(o.Perm))}
		next <- int(k)
	}
	close(next)
	for range 2 {
		go func() {
			for k := range next {
				o := &ix.orders[k]
				o.pre.fill(o.Perm)
				close(o.pre.ready)
			}
		}()
	}
}
