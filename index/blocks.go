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
