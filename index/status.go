package index

import (
	"maps"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"

	"procq/record"
)

// StatusUpdate is the new status of one process, as GSE reports it.
type StatusUpdate struct {
	ProcessID     int64
	ProcessStatus int64
	IsAuto        bool
	// ProcInstInfos replaces the record's list when SetProcInstInfos is
	// true; otherwise the list is kept.
	ProcInstInfos    []record.ProcInstInfo
	SetProcInstInfos bool
}

// WithStatus returns a new Index with the updates applied, sharing with ix
// everything a status change leaves alone: only the row slice, the changed
// records and the process_status and is_auto indexes are copied. ix is
// not modified. It also returns the ids of updates naming no process.
func (ix *Index) WithStatus(ups []StatusUpdate) (*Index, []int64) {
	nx := *ix
	nx.Rows = slices.Clone(ix.Rows)
	nx.Status = ix.Status.clone()
	nx.IsAuto = ix.IsAuto.clone()
	var missing []int64
	for _, u := range ups {
		row, ok := ix.RowOfProcess(u.ProcessID)
		if !ok {
			missing = append(missing, u.ProcessID)
			continue
		}
		old := nx.Rows[row]
		rec := *old
		rec.ProcessStatus, rec.IsAuto = u.ProcessStatus, u.IsAuto
		if u.SetProcInstInfos {
			rec.ProcInstInfos = slices.Clone(u.ProcInstInfos)
		}
		nx.Rows[row] = &rec
		nx.Status.move(row, old.ProcessStatus, rec.ProcessStatus)
		nx.IsAuto.move(row, boolTerm(old.IsAuto), boolTerm(rec.IsAuto))
	}
	return &nx, missing
}

func boolTerm(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// clone copies t and its bitmaps.
func (t *IntTerms) clone() *IntTerms {
	c := &IntTerms{rows: maps.Clone(t.rows)}
	for v, b := range c.rows {
		c.rows[v] = b.Clone()
	}
	return c
}

// move takes row from value from to value to, in a clone only.
func (t *IntTerms) move(row uint32, from, to int64) {
	if from == to {
		return
	}
	if b := t.rows[from]; b != nil {
		b.Remove(row)
		if b.IsEmpty() {
			delete(t.rows, from)
		}
	}
	b := t.rows[to]
	if b == nil {
		b = roaring.New()
		t.rows[to] = b
	}
	b.Add(row)
}
