package engine

import "github.com/RoaringBitmap/roaring/v2"

// members tells whether rows are in a result. A walk that visits many
// positions of an order asks a dense copy of the result, a bit test,
// rather than the bitmap, a search in a container that misses the cache
// for a big result; the copy costs a pass over the result and a clear of
// its words. A pid range ordered by id, 1,000 rows at 1M: the walk's
// share of a CPU profile of 500 answers 0.99 -> 0.14 s (BENCHMARKS.md,
// round 5).
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

// newMembers returns res's membership for a walk of about visits
// positions: dense when the walk is long (a thousand positions or more,
// and more than a thirty-second of res's rows, which the copy writes and
// clears). Release it after the walk.
func newMembers(res *roaring.Bitmap, visits float64) *members {
	m := &members{bm: res}
	if !res.IsEmpty() && visits >= 1024+float64(res.GetCardinality())/32 {
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
	if m.words == nil {
		return countPositions(m.bm, rows, 0, len(rows))
	}
	var n uint64
	words := m.words
	for _, row := range rows {
		if w := int(row >> 6); w < len(words) {
			n += words[w] >> (row & 63) & 1
		}
	}
	return n
}
