package engine

import (
	"slices"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/procq/procq/api"
	"github.com/procq/procq/expr"
	"github.com/procq/procq/index"
	"github.com/procq/procq/internal/match"
	"github.com/procq/procq/record"
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
	m  *match.Request
	dl *deadline
	// sliced is set when an expression's slice already chose the delta
	// records in scope (keep, ascending ids).
	sliced bool
	keep   []*record.Record
}

// inScope returns the delta records in the scope or expression of q,
// before any slice, ascending by id.
func (ds *deltaSide) inScope(recs []*record.Record) []*record.Record {
	var out []*record.Record
	for i, r := range recs {
		if i%termCheckEvery == 0 && ds.dl.expired() {
			return nil
		}
		if ds.m.InScope(r) {
			out = append(out, r)
		}
	}
	return out
}

// matches returns the delta records that answer the query, ascending by
// id. Like inScope, it stops early once the deadline expires (a record
// may cost a few microseconds against long patterns).
func (ds *deltaSide) matches(recs []*record.Record) []*record.Record {
	if ds.sliced {
		recs = ds.keep
	}
	var out []*record.Record
	for i, r := range recs {
		if i%termCheckEvery == 0 && ds.dl.expired() {
			return nil
		}
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
// form, the base's presorted order, which match.Compare agrees with). The
// base pager is asked only for the window of its order that can reach the
// page, [max(0, off-d), off+limit) with d = len(dm); the delta records are
// counted against the window's first row and only those that fall inside
// the window are sorted.
func (e *Engine) mergedPage(p *pager, ordering []api.OrderKey, res *roaring.Bitmap, r uint64, span index.Span, dm []*record.Record, off uint64, limit int) []hit {
	d := uint64(len(dm))
	if limit <= 0 || off >= r+d {
		return nil
	}
	lo := off - min(off, d)
	hi := min(off+uint64(limit), r)
	var win []uint32
	if lo < hi {
		if win = p.page(res, r, span, lo, int(hi-lo)); p.dl.expired() {
			return nil
		}
	}
	withIP := match.NeedsIP(ordering)
	var first, last match.SortRow
	if len(win) > 0 {
		first, last = e.sortRow(win[0], withIP), e.sortRow(win[len(win)-1], withIP)
	}
	// A delta record before the window's first row precedes the page
	// (when the window starts past 0); one after its last row follows
	// the page unless the window reaches the end of the base.
	cutLow, cutHigh := lo > 0, hi < r
	var before int
	var in []deltaRow
	for i, rec := range dm {
		if i%checkEvery == 0 && p.dl.expired() {
			return nil
		}
		row := match.RowOf(rec, withIP)
		if cutLow && match.Compare(ordering, &row, &first) < 0 {
			before++
			continue
		}
		if cutHigh && match.Compare(ordering, &row, &last) > 0 {
			continue
		}
		in = append(in, deltaRow{row, rec})
	}
	slices.SortFunc(in, func(a, b deltaRow) int { return match.Compare(ordering, &a.row, &b.row) })
	pos := lo + uint64(before)
	out := make([]hit, 0, limit)
	end := off + uint64(limit)
	bi, di := 0, 0
	var cur match.SortRow
	curAt := -1
	for pos < end && (bi < len(win) || di < len(in)) {
		takeDelta := bi == len(win)
		if !takeDelta && di < len(in) {
			if curAt != bi {
				cur, curAt = e.sortRow(win[bi], withIP), bi
			}
			takeDelta = match.Compare(ordering, &in[di].row, &cur) < 0
		}
		if takeDelta {
			if pos >= off {
				out = append(out, hit{row: -1, rec: in[di].rec})
			}
			di++
		} else {
			if pos >= off {
				out = append(out, hit{row: int64(win[bi])})
			}
			bi++
		}
		pos++
	}
	return out
}

// sortRow returns the sort values of base row row, materializing nothing.
func (e *Engine) sortRow(row uint32, withIP bool) match.SortRow {
	var r record.Record
	e.ix.RecordScalars(row, &r)
	return match.RowOf(&r, withIP)
}

// materialize gives the base rows of hits their records, as one batch.
func (e *Engine) materialize(hits []hit) {
	var rows []uint32
	for _, h := range hits {
		if h.row >= 0 {
			rows = append(rows, uint32(h.row))
		}
	}
	recs := e.ix.Records(rows)
	for i := range hits {
		if hits[i].row >= 0 {
			hits[i].rec, recs = recs[0], recs[1:]
		}
	}
}

// deltaRow is a delta record with its sort values.
type deltaRow struct {
	row match.SortRow
	rec *record.Record
}
