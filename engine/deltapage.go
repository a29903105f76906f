package engine

import (
	"sort"

	"github.com/RoaringBitmap/roaring/v2"

	"procq/api"
	"procq/expr"
	"procq/index"
	"procq/internal/match"
	"procq/record"
)

// This file holds the query side of the delta: the delta's records are
// tested one at a time (package match, the full-scan semantics), and
// ordered pages merge the base's presorted walk with the sorted delta
// matches.

// hit is one record of a merged page: a base row, or a delta record
// (row < 0).
type hit struct {
	row int64
	rec *record.Record
}

// deltaSide is the delta's part of one query's answer.
type deltaSide struct {
	m *match.Request
	// sliced is set when an expression's slice already chose the delta
	// records in scope (keep, ascending ids).
	sliced bool
	keep   []*record.Record
}

// inScope returns the delta records in the scope or expression of q,
// before any slice, ascending by id.
func (ds *deltaSide) inScope(recs []*record.Record) []*record.Record {
	var out []*record.Record
	for _, r := range recs {
		if ds.m.InScope(r) {
			out = append(out, r)
		}
	}
	return out
}

// matches returns the delta records that answer the query, ascending by id.
func (ds *deltaSide) matches(recs []*record.Record) []*record.Record {
	if ds.sliced {
		recs = ds.keep
	}
	var out []*record.Record
	for _, r := range recs {
		if (ds.sliced || ds.m.InScope(r)) && ds.m.Rest(r) {
			out = append(out, r)
		}
	}
	return out
}

// slice applies an expression's bk_process_id slice to the candidates:
// the base rows cand (all in span; nil for none) and, when the engine has
// a delta, its records in scope. The slice counts both together in
// ascending id order. It returns the base rows kept; the delta records
// kept go to ds.
func (e *Engine) slice(dl *deadline, sl *expr.Slice, cand *roaring.Bitmap, span index.Span, ds *deltaSide) *roaring.Bitmap {
	p := &pager{ix: e.ix, dl: dl, keys: normalizeOrdering(nil)}
	if ds == nil {
		if cand == nil {
			return nil
		}
		n := cand.GetCardinality()
		start, end := sl.Bounds(int(n))
		return roaring.BitmapOf(p.page(cand, n, span, uint64(start), end-start)...)
	}
	cand = e.live(cand)
	var n uint64
	if cand != nil {
		n = cand.GetCardinality()
	}
	dm := ds.inScope(e.d.recs)
	start, end := sl.Bounds(int(n) + len(dm))
	hits := e.mergedPage(p, nil, cand, n, span, dm, uint64(start), end-start)
	base := roaring.New()
	ds.sliced, ds.keep = true, nil
	for _, h := range hits {
		if h.row >= 0 {
			base.Add(uint32(h.row))
		} else {
			ds.keep = append(ds.keep, h.rec)
		}
	}
	// Page order is ascending id here, so keep stays sorted.
	return base
}

// live returns bm without the tombstoned rows; nil for nil or empty. It
// copies only when a tombstone falls in bm, which may be shared.
func (e *Engine) live(bm *roaring.Bitmap) *roaring.Bitmap {
	if bm == nil || bm.IsEmpty() {
		return nil
	}
	if e.d.tomb == nil || !bm.Intersects(e.d.tomb) {
		return bm
	}
	bm = roaring.AndNot(bm, e.d.tomb)
	if bm.IsEmpty() {
		return nil
	}
	return bm
}

// mergedPage returns positions [off, off+limit) of the union of the base
// rows res (r of them, all in span; nil when r is 0) and the delta records
// dm, ordered by the request's keys (ordering; p.keys is its normalized
// form). The base pager is asked only for the window of its own order
// that can reach the page: [max(0, off-d), off+limit) with d = len(dm).
func (e *Engine) mergedPage(p *pager, ordering []api.OrderKey, res *roaring.Bitmap, r uint64, span index.Span, dm []*record.Record, off uint64, limit int) []hit {
	d := uint64(len(dm))
	if limit <= 0 || off >= r+d {
		return nil
	}
	withIP := match.NeedsIP(ordering)
	drows := make([]match.SortRow, len(dm))
	byOrder := make([]int, len(dm))
	for i, rec := range dm {
		drows[i], byOrder[i] = match.RowOf(rec, withIP), i
	}
	sort.Slice(byOrder, func(a, b int) bool { return match.Compare(ordering, &drows[byOrder[a]], &drows[byOrder[b]]) < 0 })
	lo := off - min(off, d)
	hi := min(off+uint64(limit), r)
	var win []uint32
	if lo < hi {
		if win = p.page(res, r, span, lo, int(hi-lo)); p.dl.expired() {
			return nil
		}
	}
	baseRow := func(i int) match.SortRow { return match.RowOf(e.ix.Rows[win[i]], withIP) }
	bi, di, pos := 0, 0, uint64(0)
	if lo > 0 && len(win) > 0 {
		// Every base row before the window sorts before win[0]; count
		// the delta records that sort before it too.
		first := baseRow(0)
		di = sort.Search(len(byOrder), func(i int) bool { return match.Compare(ordering, &drows[byOrder[i]], &first) > 0 })
		pos = lo + uint64(di)
	}
	out := make([]hit, 0, limit)
	end := off + uint64(limit)
	var cur match.SortRow
	curAt := -1
	for pos < end && (bi < len(win) || di < len(byOrder)) {
		takeDelta := bi == len(win)
		if !takeDelta && di < len(byOrder) {
			if curAt != bi {
				cur, curAt = baseRow(bi), bi
			}
			takeDelta = match.Compare(ordering, &drows[byOrder[di]], &cur) < 0
		}
		if takeDelta {
			if pos >= off {
				out = append(out, hit{row: -1, rec: dm[byOrder[di]]})
			}
			di++
		} else {
			if pos >= off {
				out = append(out, hit{row: int64(win[bi]), rec: e.ix.Rows[win[bi]]})
			}
			bi++
		}
		pos++
	}
	return out
}
