package engine

import (
	"slices"
	"sort"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/procq/procq/api"
	"github.com/procq/procq/index"
	"github.com/procq/procq/internal/match"
	"github.com/procq/procq/record"
)

// cursorPage answers a cursor request: the q.Limit matches, base rows bm
// (live, nil when none) and delta records dm, that follow q's cursor in
// q's order, and res.Next when more follow. A match follows the cursor
// when it sorts after the cursor's sort values and bk_process_id, so a
// cursor stays valid whatever was written since: a process that matched
// throughout is neither repeated nor skipped.
//
// The base's rows are found by seeking, not by counting the matches
// before the cursor: a binary search of the presorted order of the first
// key for the cursor's group of equal keys, then a walk from there, as
// page 1's walk from the start (seekBase). Page k costs what page 1 does:
// BenchmarkCursorDeep.
func (e *Engine) cursorPage(dl *deadline, q *api.Query, p *pager, res *Result, bm *roaring.Bitmap, span index.Span, dm []*record.Record) (*Result, error) {
	withIP := match.NeedsIP(q.Ordering)
	var at *match.SortRow
	if c := q.After; c != nil {
		row := match.RowOf(&record.Record{ID: c.ID, SetID: c.SetID, ModuleID: c.ModuleID, ProcessID: c.ProcessID,
			ProcessName: c.ProcessName, InnerIP: c.InnerIP}, withIP)
		at = &row
	}
	var base []uint32
	if bm != nil {
		base = e.seekBase(p, q, bm, span, at, q.Limit+1)
	}
	var after []deltaRow
	for _, r := range dm {
		row := match.RowOf(r, withIP)
		if at == nil || match.Compare(q.Ordering, &row, at) > 0 {
			after = append(after, deltaRow{row, r})
		}
	}
	slices.SortFunc(after, func(a, b deltaRow) int { return match.Compare(q.Ordering, &a.row, &b.row) })
	hits := make([]hit, 0, q.Limit+1)
	bi, di := 0, 0
	for len(hits) <= q.Limit && (bi < len(base) || di < len(after)) {
		takeDelta := bi == len(base)
		if !takeDelta && di < len(after) {
			row := e.sortRow(base[bi], withIP)
			takeDelta = match.Compare(q.Ordering, &after[di].row, &row) < 0
		}
		if takeDelta {
			hits, di = append(hits, hit{row: -1, rec: after[di].rec}), di+1
		} else {
			hits, bi = append(hits, hit{row: int64(base[bi])}), bi+1
		}
	}
	if dl.expired() {
		return nil, dl.ctx.Err()
	}
	more := len(hits) > q.Limit
	hits = hits[:min(len(hits), q.Limit)]
	res.page = hits
	if more {
		e.setNext(q, res)
	}
	return res, nil
}

// seekBase returns the first limit rows of res (all inside span) that
// follow at in p's order (from the first row when at is nil). It walks
// the presorted order of the first key from the cursor's group of equal
// keys (found by binary search), sorting each group by the remaining
// keys; when the matches are too sparse in that order for a walk (the
// cost model of pager.page), it ranks the rows that follow at instead.
func (e *Engine) seekBase(p *pager, q *api.Query, res *roaring.Bitmap, span index.Span, at *match.SortRow, limit int) []uint32 {
	r := res.GetCardinality()
	withIP := match.NeedsIP(q.Ordering)
	follows := func(row uint32) bool {
		if at == nil {
			return true
		}
		s := e.sortRow(row, withIP)
		return match.Compare(q.Ordering, &s, at) > 0
	}
	budget := 4*int(r) + 64
	if float64(limit)*float64(span.Len())/float64(max(r, 1)) <= float64(budget) {
		if rows, ok := e.seekWalk(p, q, res, span, at, follows, limit, budget); ok {
			p.how = "seek"
			return rows
		}
	}
	p.how = "seek_scan"
	rows := make([]uint32, 0, r)
	it := res.ManyIterator()
	buf := make([]uint32, 256)
	for i := 0; ; i++ {
		if i%(checkEvery/256) == 0 && p.dl.expired() {
			return nil
		}
		k := it.NextMany(buf)
		if k == 0 {
			break
		}
		for _, row := range buf[:k] {
			if follows(row) {
				rows = append(rows, row)
			}
		}
	}
	if len(rows) == 0 {
		return nil
	}
	return p.topK(rows, 0, uint64(min(limit, len(rows))))
}

// seekWalk is seekBase's walk; false once it visits more than budget
// positions of the order.
func (e *Engine) seekWalk(p *pager, q *api.Query, res *roaring.Bitmap, span index.Span, at *match.SortRow, follows func(uint32) bool, limit, budget int) ([]uint32, bool) {
	first := p.keys[0]
	o := e.ix.Order(first.key)
	perm := o.Perm[span.Lo:span.Hi]
	base, n := int(span.Lo), len(perm)
	forward := !first.desc
	// done counts the positions visited from the walk's starting end.
	done := 0
	if at != nil {
		lo, hi := e.cursorGroup(q, perm, at)
		done = lo
		if !forward {
			done = n - hi
		}
	}
	subSort := len(p.keys) > 2 || p.keys[len(p.keys)-1].desc
	out := make([]uint32, 0, limit)
	var group []uint32
	m := newMembers(res, float64(limit)*float64(n)/float64(max(res.GetCardinality(), 1)))
	defer m.release()
	for groups := 0; done < n && len(out) < limit; groups++ {
		if groups%checkEvery == 0 && p.dl.expired() {
			return nil, true
		}
		lo, hi := nextGroup(o, base, n, done, forward)
		done += hi - lo
		if done > budget {
			return nil, false
		}
		if !subSort {
			// The order lists a group in p's order (ascending
			// bk_process_id): the cursor's group is cut by binary search
			// on the ids, and a group is read only up to the page's end.
			pos := perm[lo:hi]
			if groups == 0 && at != nil {
				pos = pos[sort.Search(len(pos), func(i int) bool { return e.ix.ProcessID(pos[i]) > at.PID }):]
			}
			for _, row := range pos {
				if len(out) == limit {
					break
				}
				if m.has(row) {
					out = append(out, row)
				}
			}
			continue
		}
		// Sorted by the remaining keys, a group is in p's order: the
		// cursor's own group is cut by binary search.
		group = collectGroup(m, perm[lo:hi], false, group[:0], hi-lo)
		slices.SortFunc(group, p.compare)
		if groups == 0 && at != nil {
			group = group[sort.Search(len(group), func(i int) bool { return follows(group[i]) }):]
		}
		out = append(out, group[:min(len(group), limit-len(out))]...)
	}
	return out, true
}

// cursorGroup returns the positions [lo, hi) of perm (a business's span
// of the presorted order of q's first key: ascending key, then
// bk_process_id) whose first key equals the cursor's, by binary search.
func (e *Engine) cursorGroup(q *api.Query, perm []uint32, at *match.SortRow) (lo, hi int) {
	key := api.OrderKey{Field: record.FieldProcessID}
	if len(q.Ordering) > 0 {
		key = api.OrderKey{Field: q.Ordering[0].Field}
	}
	keys := []api.OrderKey{key}
	withIP := key.Field == record.FieldInnerIP
	// keyCmp compares the first key of perm[i] with the cursor's alone:
	// the tie-break on bk_process_id is taken out unless it is the key.
	keyCmp := func(i int) int {
		s := e.sortRow(perm[i], withIP)
		if key.Field != record.FieldProcessID {
			s.PID = at.PID
		}
		return match.Compare(keys, &s, at)
	}
	lo = sort.Search(len(perm), func(i int) bool { return keyCmp(i) >= 0 })
	hi = lo + sort.Search(len(perm)-lo, func(i int) bool { return keyCmp(lo+i) > 0 })
	return lo, hi
}

// setNext sets res.Next to the cursor of res's last row.
func (e *Engine) setNext(q *api.Query, res *Result) {
	last := res.page[len(res.page)-1]
	r := last.rec
	if r == nil {
		r = new(record.Record)
		e.ix.RecordScalars(uint32(last.row), r)
	}
	c := api.Cursor{ID: r.ID, SetID: r.SetID, ModuleID: r.ModuleID, ProcessID: r.ProcessID,
		ProcessName: r.ProcessName, InnerIP: r.InnerIP, Sig: q.Sig}
	res.Next = c.Encode()
}
