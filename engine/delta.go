package engine

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/procq/procq/index"
	"github.com/procq/procq/record"
)

// delta is what changed since the base index was built: the records
// upserted since (their ids unique, ascending) and a tombstone bitmap of
// the base rows deleted or replaced since. Like the engine that holds it,
// a delta never changes; a write makes a new one (copy on write: it is
// small, the base is never touched).
type delta struct {
	recs []*record.Record
	// tomb holds base rows whose process was deleted or replaced; nil
	// when there are none.
	tomb *roaring.Bitmap
}

// tombs returns the number of tombstones.
func (d *delta) tombs() uint64 {
	if d.tomb == nil {
		return 0
	}
	return d.tomb.GetCardinality()
}

// empty reports whether the delta changes nothing.
func (d *delta) empty() bool { return len(d.recs) == 0 && d.tombs() == 0 }

// find returns the index of pid in recs, and whether it is there.
func (d *delta) find(pid int64) (int, bool) {
	return slices.BinarySearchFunc(d.recs, pid, func(r *record.Record, pid int64) int { return cmp.Compare(r.ProcessID, pid) })
}

// dead reports whether base row row is tombstoned.
func (d *delta) dead(row uint32) bool { return d.tomb != nil && d.tomb.Contains(row) }

// DefaultMergeAt is the delta size (records upserted plus base rows
// tombstoned since the last merge) from which NeedsMerge says a merge is
// due. A query tests every delta record one at a time and a merge costs a
// full build (about a second at 1M records, on another goroutine), so the
// bound trades the one against the other; docs/ARCHITECTURE.md gives the
// measurements.
const DefaultMergeAt = 2048

// maxDelta is the delta size past which WithChanges folds the delta into
// a new base at once (a batch that large costs about as much to index as
// the base itself), so queries never test more delta records than this.
const maxDelta = 1 << 16

// DeltaStats describes an engine's delta, for metrics.
type DeltaStats struct {
	// Records is the number of records upserted since the base was built.
	Records int
	// Tombstones is the number of base rows deleted or replaced since.
	Tombstones uint64
	// Base is the number of rows of the base, tombstoned ones included.
	Base int
}

// Delta returns the size of the engine's delta.
func (e *Engine) Delta() DeltaStats {
	return DeltaStats{Records: len(e.d.recs), Tombstones: e.d.tombs(), Base: e.ix.Len()}
}

// NeedsMerge reports whether the delta has reached at least mergeAt
// (DefaultMergeAt when mergeAt <= 0) records and tombstones.
func (e *Engine) NeedsMerge(mergeAt int) bool {
	if mergeAt <= 0 {
		mergeAt = DefaultMergeAt
	}
	return uint64(len(e.d.recs))+e.d.tombs() >= uint64(mergeAt)
}

// WithChanges returns a new engine with upserts (replacing any record with
// the same bk_process_id) and deletions applied; e is unchanged. Only the
// delta changes: the upserted records join it and the base rows they
// replace or delete are tombstoned, at a cost in proportion to the change
// and the delta, not the data set. Deleting an absent id is not an error;
// of two upserts of one id the later wins, and an upsert wins over a
// deletion of its id.
func (e *Engine) WithChanges(upserts []*record.Record, deletes []int64) (*Engine, error) {
	start := time.Now()
	ch := make(map[int64]*record.Record, len(upserts)+len(deletes))
	for _, pid := range deletes {
		ch[pid] = nil
	}
	for _, r := range upserts {
		if r.ProcessID <= 0 {
			return nil, fmt.Errorf("upsert: bk_process_id must be > 0, got %d", r.ProcessID)
		}
		ch[r.ProcessID] = r
	}
	pids := make([]int64, 0, len(ch))
	for pid := range ch {
		pids = append(pids, pid)
	}
	slices.Sort(pids)
	var tomb *roaring.Bitmap
	if e.d.tomb != nil {
		tomb = e.d.tomb.Clone()
	}
	recs := make([]*record.Record, 0, len(e.d.recs)+len(upserts))
	i := 0
	for _, pid := range pids {
		for i < len(e.d.recs) && e.d.recs[i].ProcessID < pid {
			recs = append(recs, e.d.recs[i])
			i++
		}
		if i < len(e.d.recs) && e.d.recs[i].ProcessID == pid {
			i++ // replaced or deleted
		}
		if r := ch[pid]; r != nil {
			recs = append(recs, r)
		}
		if row, ok := e.ix.RowOfProcess(pid); ok {
			if tomb == nil {
				tomb = roaring.New()
			}
			tomb.Add(row)
		}
	}
	recs = append(recs, e.d.recs[i:]...)
	n := &Engine{ix: e.ix, d: delta{recs: recs, tomb: tomb}, buildTime: time.Since(start), version: e.version + 1, terms: e.terms}
	if len(recs) > maxDelta {
		return n.Merge()
	}
	return n, nil
}

// withStatusDelta applies to a copy of the delta the updates of processes
// the delta holds, and returns that delta, the updates left for the base,
// and the ids of updates naming a process the engine deleted or replaced
// (reported missing, ascending). It does not look the base up: the base's
// own WithStatus finds the rows of the rest in one pass over its sorted
// ids (a binary search per update was most of a 100k batch at 1M).
func (e *Engine) withStatusDelta(ups []record.StatusUpdate) (delta, []record.StatusUpdate, []int64) {
	d := e.d
	if d.empty() {
		return d, ups, nil
	}
	dead := e.deadProcessIDs()
	base := make([]record.StatusUpdate, 0, len(ups))
	var missing []int64
	copied := false
	for _, u := range ups {
		if i, ok := d.find(u.ProcessID); ok {
			if !copied {
				d.recs, copied = slices.Clone(d.recs), true
			}
			rec := *d.recs[i]
			rec.ProcessStatus, rec.IsAuto = u.ProcessStatus, u.IsAuto
			if u.SetProcInstInfos {
				rec.ProcInstInfos = slices.Clone(u.ProcInstInfos)
			}
			d.recs[i] = &rec
			continue
		}
		if _, ok := slices.BinarySearch(dead, u.ProcessID); ok {
			missing = append(missing, u.ProcessID)
			continue
		}
		base = append(base, u)
	}
	return d, base, missing
}

// deadProcessIDs returns the bk_process_ids of the tombstoned base rows,
// ascending.
func (e *Engine) deadProcessIDs() []int64 {
	if e.d.tomb == nil {
		return nil
	}
	ids := make([]int64, 0, e.d.tomb.GetCardinality())
	it := e.d.tomb.Iterator()
	for it.HasNext() {
		ids = append(ids, e.ix.ProcessID(it.Next()))
	}
	slices.Sort(ids)
	return ids
}

// Merge returns an engine with the same records and version as e whose
// base holds them all and whose delta is empty: a full build, which takes
// time in proportion to the data set. It returns e itself when its delta
// is already empty. Run it off the request path (see store).
func (e *Engine) Merge() (*Engine, error) {
	if e.d.empty() {
		return e, nil
	}
	recs := make([]*record.Record, 0, e.Len())
	e.Records(func(r *record.Record) bool {
		recs = append(recs, r)
		return true
	})
	n, err := New(recs)
	if err != nil {
		return nil, err
	}
	n.version = e.version
	return n, nil
}

// Records calls fn with every record in ascending bk_process_id order
// until fn returns false.
func (e *Engine) Records(fn func(*record.Record) bool) {
	ix := e.ix
	// Perm is business-major; a global id order needs the id ranks.
	rank := ix.Order(index.KeyProcessID).Rank
	rows := make([]uint32, len(rank))
	for row, r := range rank {
		rows[r] = uint32(row)
	}
	dr := e.d.recs
	// Base records are materialized a batch at a time (a few allocations
	// a batch rather than several a record).
	batch := make([]uint32, 0, 256)
	for lo := 0; lo < len(rows); {
		batch = batch[:0]
		for ; lo < len(rows) && len(batch) < cap(batch); lo++ {
			if !e.d.dead(rows[lo]) {
				batch = append(batch, rows[lo])
			}
		}
		for _, r := range ix.Records(batch) {
			for len(dr) > 0 && dr[0].ProcessID < r.ProcessID {
				if !fn(dr[0]) {
					return
				}
				dr = dr[1:]
			}
			if !fn(r) {
				return
			}
		}
	}
	for _, r := range dr {
		if !fn(r) {
			return
		}
	}
}

// Len returns the number of records.
func (e *Engine) Len() int { return e.ix.Len() - int(e.d.tombs()) + len(e.d.recs) }

// Record returns the record whose bk_process_id is pid, and whether there
// is one. The record belongs to the engine: the caller must not change it.
func (e *Engine) Record(pid int64) (*record.Record, bool) {
	if i, ok := e.d.find(pid); ok {
		return e.d.recs[i], true
	}
	row, ok := e.ix.RowOfProcess(pid)
	if !ok || e.d.dead(row) {
		return nil, false
	}
	return e.ix.Record(row), true
}

// Absent returns those of pids (in any order, repeats allowed) that name
// no process of e. Many ids cost one sort and one forward pass over the
// base's sorted ids, not a search each.
func (e *Engine) Absent(pids []int64) map[int64]bool {
	sorted := slices.Clone(pids)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	absent := make(map[int64]bool)
	e.ix.EachProcess(sorted, func(i int, row uint32, ok bool) {
		pid := sorted[i]
		if _, inDelta := e.d.find(pid); inDelta {
			return
		}
		if !ok || e.d.dead(row) {
			absent[pid] = true
		}
	})
	return absent
}
