package engine

import (
	"github.com/RoaringBitmap/roaring/v2"

	"procq/index"
)

// fewTerms is how many matching terms are ORed as bitmaps; with more, the
// candidate rows are filtered through a mask of the matching term ids,
// which costs a few nanoseconds per candidate row instead of a bitmap
// union per term.
const fewTerms = 32

// termSet is the set of matching term ids of one dictionary.
type termSet struct {
	dict    *index.StrTerms
	ids     []uint32
	mask    []uint64 // built on demand
	rowTerm []uint32 // the dictionary's row → term column, with the mask
}

func (s *termSet) buildMask() {
	s.rowTerm = s.dict.RowTerms()
	s.mask = make([]uint64, (s.dict.Len()+63)/64)
	for _, id := range s.ids {
		s.mask[id>>6] |= 1 << (id & 63)
	}
}

// rowsWithin returns the rows of cand whose term in any of sets matches.
func rowsWithin(cand *roaring.Bitmap, sets ...*termSet) *roaring.Bitmap {
	total := 0
	for _, s := range sets {
		total += len(s.ids)
	}
	if total == 0 {
		return roaring.New()
	}
	if total <= fewTerms {
		bms := make([]*roaring.Bitmap, 0, total)
		for _, s := range sets {
			for _, id := range s.ids {
				bms = append(bms, s.dict.Rows(id))
			}
		}
		return roaring.And(union(bms), cand)
	}
	for _, s := range sets {
		s.buildMask()
	}
	// The loop below runs once per candidate row: keep it free of calls.
	rows := make([]uint32, 0, 1024)
	buf := make([]uint32, 1024)
	it := cand.ManyIterator()
	for {
		n := it.NextMany(buf)
		if n == 0 {
			break
		}
		for _, row := range buf[:n] {
			for _, s := range sets {
				if id := s.rowTerm[row]; s.mask[id>>6]&(1<<(id&63)) != 0 {
					rows = append(rows, row)
					break
				}
			}
		}
	}
	out := roaring.New()
	out.AddMany(rows)
	return out
}

// filterRows returns the rows of cand for which keep is true.
func filterRows(cand *roaring.Bitmap, keep func(row uint32) bool) *roaring.Bitmap {
	var rows []uint32
	buf := make([]uint32, 512)
	it := cand.ManyIterator()
	for {
		n := it.NextMany(buf)
		if n == 0 {
			break
		}
		for _, row := range buf[:n] {
			if keep(row) {
				rows = append(rows, row)
			}
		}
	}
	out := roaring.New()
	out.AddMany(rows)
	return out
}
