package engine

import "github.com/RoaringBitmap/roaring/v2"

// members tells whether rows are in a result. A walk that visits many
// positions of an order asks a dense copy of the result, a bit test of
// about a nanosecond, rather than the bitmap, a search in a container of
// about 30 ns; the copy costs a pass over the result and a clear of its
// words.
type members struct {
	bm    *roaring.Bitmap
	words []uint64 // the dense copy; nil: ask bm
	set   *rowSet
	// countWords says a block's matches are cheaper counted a bit test
	// a position than by an AndCardinality: a sparse result's containers
	// are arrays, whose intersection with a block's is a merge, where a
	// dense one's are bitmaps (or runs), a test per block row.
	countWords bool
}

// denseVisits tells whether a walk visiting about visits positions over
// a result of r rows pays for a dense copy of it: the copy costs about a
// thirty-second of a Contains per row, a visit an eighth of one.
func denseVisits(visits float64, r uint64) bool {
	return visits >= 1024+float64(r)/32
}

// newMembers returns res's membership for a walk of about visits
// positions: dense when that pays. Release it after the walk.
func newMembers(res *roaring.Bitmap, visits float64) *members {
	m := &members{bm: res}
	if !res.IsEmpty() && denseVisits(visits, res.GetCardinality()) {
		m.set = newRowSet(res)
		m.words = m.set.words
		res.WriteDenseTo(m.words)
		m.countWords = res.GetCardinality()*16 < uint64(res.Maximum()-res.Minimum()+1)
	}
	return m
}

// has reports whether row is in the result.
func (m *members) has(row uint32) bool {
	if m.words == nil {
		return m.bm.Contains(row)
	}
	w := int(row >> 6)
	return w < len(m.words) && m.words[w]&(1<<(row&63)) != 0
}

// release returns the dense copy, if any, to the pool.
func (m *members) release() {
	if m.set != nil {
		m.set.release()
		m.set, m.words = nil, nil
	}
}

// count returns how many of rows are in the result.
func (m *members) count(rows []uint32) uint64 {
	var n uint64
	if m.words == nil {
		for _, row := range rows {
			if m.bm.Contains(row) {
				n++
			}
		}
		return n
	}
	words := m.words
	for _, row := range rows {
		if w := int(row >> 6); w < len(words) {
			n += words[w] >> (row & 63) & 1
		}
	}
	return n
}
