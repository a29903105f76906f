package engine

import (
	"github.com/RoaringBitmap/roaring/v2"

	"github.com/procq/procq/api"
	"github.com/procq/procq/internal/match"
	"github.com/procq/procq/record"
)

// cursorOffset is the number of matches, base rows bm and delta records
// dm, at or before q's cursor in q's order: the position its page starts
// at. It compares every match with the cursor's sort values, so a cursor
// stays valid whatever was written since: a process that matched
// throughout is neither repeated nor skipped.
func (e *Engine) cursorOffset(dl *deadline, q *api.Query, bm *roaring.Bitmap, dm []*record.Record) uint64 {
	c := q.After
	if c == nil {
		return 0
	}
	withIP := match.NeedsIP(q.Ordering)
	at := match.RowOf(&record.Record{ID: c.ID, SetID: c.SetID, ModuleID: c.ModuleID, ProcessID: c.ProcessID,
		ProcessName: c.ProcessName, InnerIP: c.InnerIP}, withIP)
	var n uint64
	before := func(r *record.Record) {
		row := match.RowOf(r, withIP)
		if match.Compare(q.Ordering, &row, &at) <= 0 {
			n++
		}
	}
	if bm != nil {
		// The sort keys are scalar fields: read them without building
		// each row's record.
		var scratch record.Record
		it := bm.Iterator()
		for i := 0; it.HasNext(); i++ {
			if i%checkEvery == 0 && dl.expired() {
				return 0
			}
			e.ix.RecordScalars(it.Next(), &scratch)
			before(&scratch)
		}
	}
	for _, r := range dm {
		before(r)
	}
	return n
}

// setNext sets res.Next when matches follow the page that starts at off.
func (e *Engine) setNext(q *api.Query, res *Result, off uint64) {
	if len(res.Rows) == 0 || off+uint64(len(res.Rows)) >= res.Count {
		return
	}
	r := res.Rows[len(res.Rows)-1]
	c := api.Cursor{ID: r.ID, SetID: r.SetID, ModuleID: r.ModuleID, ProcessID: r.ProcessID,
		ProcessName: r.ProcessName, InnerIP: r.InnerIP, Sig: q.Sig}
	res.Next = c.Encode()
}
