package index

import (
	"cmp"
	"slices"
	"sort"

	"github.com/RoaringBitmap/roaring/v2"

	"procq/record"
)

// WithStatus returns a new Index with the updates applied, sharing with ix
// everything a status change leaves alone: only the row slice, the changed
// records and the process_status and is_auto indexes are copied. ix is
// not modified. It also returns the ids of updates naming no process.
func (ix *Index) WithStatus(ups []record.StatusUpdate) (*Index, []int64) {
	nx := *ix
	nx.Rows = slices.Clone(ix.Rows)
	nx.Status = ix.Status.clone()
	nx.IsAuto = ix.IsAuto.clone()
	// Find each update's row by ascending id, one forward search from the
	// previous id (the sorted ids are read front to back once), then apply
	// the updates in row order, which reads the records in the order they
	// sit in memory when they were loaded in topology order. Ties keep
	// their order, so a later update of the same process still wins.
	type target struct{ row, k int32 }
	byID := make([]int32, len(ups))
	for i := range byID {
		byID[i] = int32(i)
	}
	slices.SortFunc(byID, func(a, b int32) int { return cmp.Compare(ups[a].ProcessID, ups[b].ProcessID) })
	var missing []int64
	targets := make([]target, 0, len(ups))
	at := 0
	for _, k := range byID {
		pid := ups[k].ProcessID
		at = ix.seekProcess(at, pid)
		if at == len(ix.pids) || ix.pids[at] != pid {
			missing = append(missing, pid)
			continue
		}
		targets = append(targets, target{int32(ix.pidRows[at]), k})
	}
	slices.SortFunc(targets, func(a, b target) int {
		if c := cmp.Compare(a.row, b.row); c != 0 {
			return c
		}
		return cmp.Compare(a.k, b.k)
	})
	for _, t := range targets {
		u, row := &ups[t.k], uint32(t.row)
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

// seekProcess returns the first position at or after from whose id is at
// least pid, galloping forward then searching the last stride.
func (ix *Index) seekProcess(from int, pid int64) int {
	step := 1
	hi := from
	for hi < len(ix.pids) && ix.pids[hi] < pid {
		from = hi + 1
		hi += step
		step *= 2
	}
	hi = min(hi, len(ix.pids))
	return from + sort.Search(hi-from, func(i int) bool { return ix.pids[from+i] >= pid })
}

func boolTerm(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// clone copies t and its bitmaps.
func (t *IntTerms) clone() *IntTerms {
	c := &IntTerms{values: slices.Clone(t.values), postings: postings{
		spans: slices.Clone(t.spans),
		bms:   make(map[uint32]*roaring.Bitmap, len(t.bms)),
	}}
	for id, b := range t.bms {
		c.bms[id] = b.Clone()
	}
	return c
}

// move takes row from value from to value to, in a clone only.
func (t *IntTerms) move(row uint32, from, to int64) {
	if from == to {
		return
	}
	if id, ok := t.lookup(from); ok {
		t.bitmap(id).Remove(row)
	}
	id, ok := t.lookup(to)
	if !ok {
		// A new value: insert it, renumbering the terms after it.
		t.values = slices.Insert(t.values, int(id), to)
		t.spans = slices.Insert(t.spans, int(id), Span{})
		bms := make(map[uint32]*roaring.Bitmap, len(t.bms)+1)
		for k, b := range t.bms {
			if k >= id {
				k++
			}
			bms[k] = b
		}
		bms[id] = roaring.New()
		t.bms = bms
	}
	t.bitmap(id).Add(row)
}

// bitmap turns term id's rows into a bitmap of its own, for changing.
func (t *IntTerms) bitmap(id uint32) *roaring.Bitmap {
	if t.spans[id].Hi != 0 {
		t.bms[id] = t.rows(id)
		t.spans[id] = Span{}
	}
	return t.bms[id]
}
