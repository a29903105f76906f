// Package index holds the read-only, in-memory indexes over a set of process
// records: rows numbered densely in topology order, an inverted index
// (value → RoaringBitmap of rows) per filterable field, term dictionaries
// for name matching and substring search, and presorted row orders for
// every sort key. An Index never changes after Build, so any number of
// goroutines may read it at once.
package index

import (
	"cmp"
	"slices"
	"sort"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/procq/procq/record"
)

// Span is a half-open range of rows [Lo, Hi).
type Span struct{ Lo, Hi uint32 }

// Len returns the number of rows in s.
func (s Span) Len() int { return int(s.Hi - s.Lo) }

// Index is the set of indexes over records in row order.
type Index struct {
	// n is the number of rows, numbered in topology order: business, set
	// env, set, module, service instance, bk_process_id. No record is
	// kept: rc and the indexes hold their fields as columns (see Record),
	// cols the current process_status, is_auto and proc_inst_infos.
	n    int
	rc   recColumns
	cols columns
	// verbatim says which dictionaries need no escaping in JSON.
	verbatim *verbatimCell

	biz     map[int64]Span
	bizRows map[int64]*roaring.Bitmap

	Env               *StrTerms
	SetID             *IntTerms
	ModuleID          *IntTerms
	ServiceInstanceID *IntTerms
	CloudID           *IntTerms
	Status            *IntTerms
	IsAuto            *IntTerms // 1 for true, 0 for false

	SetName     *StrTerms
	ModuleName  *StrTerms
	ServiceName *StrTerms
	ProcessName *StrTerms
	InnerIP     *StrTerms
	CloudName   *StrTerms

	// pids holds every bk_process_id ascending; pidRows the row of each.
	pids    []int64
	pidRows []uint32

	orders [NumKeys]Order
}

// Build numbers the records in topology order and indexes them. recs is
// reordered in place but not kept: the index holds their fields as
// columns. bk_process_id must be unique (the caller checks).
func Build(recs []*record.Record) *Index {
	if !slices.IsSortedFunc(recs, compareTopology) {
		slices.SortFunc(recs, compareTopology)
	}
	n := len(recs)
	ix := &Index{n: n}
	ix.buildBiz(recs)

	// Every index is built on its own goroutine; a sort order waits only
	// for the ranks it needs, so the two cores stay busy to the end.
	var wg sync.WaitGroup
	run := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	var ranks [NumKeys][]uint32
	var ranked [NumKeys]chan struct{}
	for k := range ranked {
		ranked[k] = make(chan struct{})
	}
	run(func() {
		defer close(ranked[KeyProcessID])
		ranks[KeyProcessID] = ix.buildPids(recs)
	})
	run(func() {
		defer close(ranked[KeyID])
		ranks[KeyID], _ = intRanks(n, func(i int) int64 { return recs[i].ID })
	})
	run(func() {
		defer close(ranked[KeySetID])
		ix.SetID, ranks[KeySetID] = buildIntTerms(n, func(i int) int64 { return recs[i].SetID })
	})
	run(func() {
		defer close(ranked[KeyModuleID])
		ix.ModuleID, ranks[KeyModuleID] = buildIntTerms(n, func(i int) int64 { return recs[i].ModuleID })
	})
	run(func() {
		defer close(ranked[KeyProcessName])
		ix.ProcessName = buildStrTerms(n, func(i int) string { return recs[i].ProcessName }, true)
		ranks[KeyProcessName] = ix.ProcessName.rowTerm
	})
	run(func() {
		defer close(ranked[KeyInnerIP])
		ix.InnerIP = buildStrTerms(n, func(i int) string { return recs[i].InnerIP }, false)
		ranks[KeyInnerIP] = ipRanks(ix.InnerIP)
	})
	run(func() { ix.Env = buildStrTerms(n, func(i int) string { return recs[i].SetEnv }, false) })
	run(func() {
		var rowTerm []uint32
		ix.ServiceInstanceID, rowTerm = buildIntTerms(n, func(i int) int64 { return recs[i].ServiceInstanceID })
		ix.rc.svcInst = packUints(rowTerm)
	})
	run(func() {
		var rowTerm []uint32
		ix.CloudID, rowTerm = buildIntTerms(n, func(i int) int64 { return recs[i].CloudID })
		ix.rc.cloud = packUints(rowTerm)
	})
	ix.buildStatus(run, recs)
	ix.rc.build(run, recs)
	run(func() { ix.SetName = buildStrTerms(n, func(i int) string { return recs[i].SetName }, true) })
	run(func() { ix.ModuleName = buildStrTerms(n, func(i int) string { return recs[i].ModuleName }, true) })
	run(func() { ix.ServiceName = buildStrTerms(n, func(i int) string { return recs[i].ServiceName }, true) })
	run(func() { ix.CloudName = buildStrTerms(n, func(i int) string { return recs[i].CloudName }, false) })

	ix.buildOrders(run, recs, &ranks, &ranked)
	wg.Wait()
	ix.rc.pidRank, ix.rc.setTerm, ix.rc.moduleTerm = ranks[KeyProcessID], ranks[KeySetID], ranks[KeyModuleID]
	ix.verbatim = &verbatimCell{done: make(chan struct{})}
	ix.verbatim.find(ix)
	// Suffix orders are only needed by suffix globs; sort them in the
	// background so the engine can answer everything else at once.
	for _, d := range []*StrTerms{ix.SetName, ix.ModuleName, ix.ServiceName, ix.ProcessName} {
		go d.suffixOrder()
	}
	return ix
}

// buildOrders starts, through run, the sort order of every key: rows in
// (business, key rank, bk_process_id) order, each waiting only for the
// ranks it needs (ranked[k] closes once ranks[k] is set).
func (ix *Index) buildOrders(run func(func()), recs []*record.Record, ranks *[NumKeys][]uint32, ranked *[NumKeys]chan struct{}) {
	n := len(recs)
	// Row → business number, for the business-major counting sorts.
	bizOf := make([]uint32, n)
	var nbiz uint32
	for i := range n {
		if i > 0 && recs[i].BizID != recs[i-1].BizID {
			nbiz++
		}
		bizOf[i] = nbiz
	}
	nb := int(nbiz) + 1
	// Rows in (business, bk_process_id) order: one stable pass by business
	// over the rows in id order.
	var pidPerm []uint32
	pidPermed := make(chan struct{})
	run(func() {
		defer close(pidPermed)
		<-ranked[KeyProcessID]
		pidPerm = countingSort(ix.pidRows, bizOf, nb)
	})
	for k := range NumKeys {
		run(func() {
			<-pidPermed
			<-ranked[k]
			rank := ranks[k]
			perm := pidPerm
			if k != KeyProcessID {
				r := maxRank(rank) + 1
				if nb*r <= 4*n {
					// One pass on the combined (business, rank) key.
					key := make([]uint32, n)
					for row := range key {
						key[row] = bizOf[row]*uint32(r) + rank[row]
					}
					perm = countingSort(ix.pidRows, key, nb*r)
				} else {
					perm = countingSort(countingSort(ix.pidRows, rank, r), bizOf, nb)
				}
			}
			ix.orders[k] = newOrder(perm, rank)
		})
	}
}

// buildBiz numbers the businesses of recs, in row order.
func (ix *Index) buildBiz(recs []*record.Record) {
	ix.biz, ix.bizRows = make(map[int64]Span), make(map[int64]*roaring.Bitmap)
	n := len(recs)
	for lo := 0; lo < n; {
		hi := lo + 1
		for hi < n && recs[hi].BizID == recs[lo].BizID {
			hi++
		}
		ix.biz[recs[lo].BizID] = Span{uint32(lo), uint32(hi)}
		b := roaring.New()
		b.AddRange(uint64(lo), uint64(hi))
		ix.bizRows[recs[lo].BizID] = b
		ix.rc.bizLo, ix.rc.bizID = append(ix.rc.bizLo, uint32(lo)), append(ix.rc.bizID, recs[lo].BizID)
		lo = hi
	}
}

// buildPids fills the bk_process_id lookup and returns each row's rank by
// bk_process_id.
func (ix *Index) buildPids(recs []*record.Record) []uint32 {
	n := len(recs)
	rank, pidRows := intRanks(n, func(i int) int64 { return recs[i].ProcessID })
	ix.pidRows, ix.pids = pidRows, make([]int64, n)
	for i, row := range pidRows {
		ix.pids[i] = recs[row].ProcessID
	}
	if _, dup := ix.DuplicateProcess(); dup {
		// Ranks of equal ids are equal: keep the ids by row (an index
		// with a duplicate is only built to be rejected).
		ix.rc.pidByRow = make([]int64, n)
		for row, r := range recs {
			ix.rc.pidByRow[row] = r.ProcessID
		}
	}
	return rank
}

// buildStatus indexes process_status and is_auto and fills the status
// columns, on goroutines started by run.
func (ix *Index) buildStatus(run func(func()), recs []*record.Record) {
	n := len(recs)
	run(func() {
		var rowTerm []uint32
		ix.Status, rowTerm = buildIntTerms(n, func(i int) int64 { return recs[i].ProcessStatus })
		ix.cols.status = newStatusColumn(rowTerm, ix.Status.values)
	})
	run(func() {
		var rowTerm []uint32
		ix.IsAuto, rowTerm = buildIntTerms(n, func(i int) int64 { return boolTerm(recs[i].IsAuto) })
		ix.cols.auto = newAutoColumn(rowTerm, ix.IsAuto.values)
	})
	ix.cols.infos = make([]*infoChunk, (n+chunkMask)>>chunkBits)
}

func maxRank(rank []uint32) int {
	m := uint32(0)
	for _, r := range rank {
		m = max(m, r)
	}
	return int(m)
}

// ipRanks ranks each row by its IP in address order.
func ipRanks(ips *StrTerms) []uint32 {
	// Parse each distinct IP once: addresses sort by value, everything
	// else keeps its dictionary (byte-wise) order after them, empty last.
	type ipKey struct {
		class uint8 // 0 address, 1 other text, 2 empty
		v     uint32
		id    uint32
	}
	keys := make([]ipKey, len(ips.terms))
	for id, term := range ips.terms {
		k := ipKey{class: 1, id: uint32(id)}
		if v, ok := parseIPv4(term); ok {
			k.class, k.v = 0, v
		} else if term == "" {
			k.class = 2
		}
		keys[id] = k
	}
	slices.SortFunc(keys, func(a, b ipKey) int {
		if c := cmp.Compare(a.class, b.class); c != 0 {
			return c
		}
		if c := cmp.Compare(a.v, b.v); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	termRank := make([]uint32, len(keys))
	for i, k := range keys {
		termRank[k.id] = uint32(i) // distinct terms never compare equal
	}
	rank := make([]uint32, len(ips.rowTerm))
	for row, id := range ips.rowTerm {
		rank[row] = termRank[id]
	}
	return rank
}

func compareTopology(a, b *record.Record) int {
	if c := cmp.Compare(a.BizID, b.BizID); c != 0 {
		return c
	}
	if c := cmp.Compare(a.SetEnv, b.SetEnv); c != 0 {
		return c
	}
	if c := cmp.Compare(a.SetID, b.SetID); c != 0 {
		return c
	}
	if c := cmp.Compare(a.ModuleID, b.ModuleID); c != 0 {
		return c
	}
	if c := cmp.Compare(a.ServiceInstanceID, b.ServiceInstanceID); c != 0 {
		return c
	}
	return cmp.Compare(a.ProcessID, b.ProcessID)
}

// Len returns the number of rows.
func (ix *Index) Len() int { return ix.n }

// ProcessID returns the bk_process_id of row.
func (ix *Index) ProcessID(row uint32) int64 {
	if ix.rc.pidByRow != nil {
		return ix.rc.pidByRow[row]
	}
	return ix.pids[ix.rc.pidRank[row]]
}

// Biz returns the span of rows of business id.
func (ix *Index) Biz(id int64) (Span, bool) {
	s, ok := ix.biz[id]
	return s, ok
}

// BizRows returns the rows of business id as a bitmap, or nil. Shared.
func (ix *Index) BizRows(id int64) *roaring.Bitmap { return ix.bizRows[id] }

// Order returns the presorted order of key k.
func (ix *Index) Order(k Key) *Order { return &ix.orders[k] }

// DuplicateProcess returns a bk_process_id held by more than one row, if
// any.
func (ix *Index) DuplicateProcess() (int64, bool) {
	for i := 1; i < len(ix.pids); i++ {
		if ix.pids[i] == ix.pids[i-1] {
			return ix.pids[i], true
		}
	}
	return 0, false
}

// RowOfProcess returns the row of the process with bk_process_id pid.
func (ix *Index) RowOfProcess(pid int64) (uint32, bool) {
	i := sort.Search(len(ix.pids), func(i int) bool { return ix.pids[i] >= pid })
	if i < len(ix.pids) && ix.pids[i] == pid {
		return ix.pidRows[i], true
	}
	return 0, false
}

// ProcessRanks returns the ranks [i, j) of the processes whose
// bk_process_id lies in [lo, hi]: a row's rank is Order(KeyProcessID).Rank.
func (ix *Index) ProcessRanks(lo, hi int64) (i, j uint32) {
	if lo > hi {
		return 0, 0
	}
	a := sort.Search(len(ix.pids), func(i int) bool { return ix.pids[i] >= lo })
	b := sort.Search(len(ix.pids), func(i int) bool { return ix.pids[i] > hi })
	return uint32(a), uint32(max(a, b))
}

// ProcessesIn returns the rows whose bk_process_id lies in [lo, hi].
func (ix *Index) ProcessesIn(lo, hi int64) *roaring.Bitmap {
	i, j := ix.ProcessRanks(lo, hi)
	b := roaring.New()
	if i < j {
		b.AddMany(slices.Sorted(slices.Values(ix.pidRows[i:j])))
	}
	return b
}

// Sizes reports the bytes held by each index, by name, and by the columns
// of the fields no index holds (record_columns) and their dictionaries
// (record_dictionaries).
func (ix *Index) Sizes() map[string]uint64 {
	s := map[string]uint64{
		"env": ix.Env.sizeInBytes(), "set_id": ix.SetID.sizeInBytes(),
		"module_id": ix.ModuleID.sizeInBytes(), "service_instance_id": ix.ServiceInstanceID.sizeInBytes(),
		"cloud_id": ix.CloudID.sizeInBytes(), "process_status": ix.Status.sizeInBytes(),
		"is_auto": ix.IsAuto.sizeInBytes(), "set_name": ix.SetName.sizeInBytes(),
		"module_name": ix.ModuleName.sizeInBytes(), "service_name": ix.ServiceName.sizeInBytes(),
		"process_name": ix.ProcessName.sizeInBytes(), "innerip": ix.InnerIP.sizeInBytes(),
		"cloud_name":     ix.CloudName.sizeInBytes(),
		"process_id":     uint64(len(ix.pids)*8 + len(ix.pidRows)*4),
		"status_columns": ix.cols.sizeInBytes(),
	}
	var biz uint64
	for _, b := range ix.bizRows {
		biz += b.GetSizeInBytes() + 32
	}
	s["biz"] = biz
	var orders uint64
	for k := range NumKeys {
		orders += uint64(len(ix.orders[k].Perm)*4 + len(ix.orders[k].groupStart)*8)
		for _, b := range ix.orders[k].blocks {
			orders += b.GetSizeInBytes() + 8
		}
		for _, b := range ix.orders[k].pre.wait().bms {
			orders += b.GetSizeInBytes() + 8
		}
		if k != KeyProcessName { // shares the process-name dictionary's column
			orders += uint64(len(ix.orders[k].Rank) * 4)
		}
	}
	s["orders"] = orders
	s["record_columns"], s["record_dictionaries"] = ix.rc.sizes()
	return s
}

// EachProcess calls fn with the i-th id of sorted (ascending), its row
// and whether the index holds it, in one forward pass over the sorted ids:
// for many ids this reads memory in order where a search per id would not.
func (ix *Index) EachProcess(sorted []int64, fn func(i int, row uint32, ok bool)) {
	at := 0
	for i, pid := range sorted {
		at = ix.seekProcess(at, pid)
		if at < len(ix.pids) && ix.pids[at] == pid {
			fn(i, ix.pidRows[at], true)
		} else {
			fn(i, 0, false)
		}
	}
}
