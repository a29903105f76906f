package index

import (
	"slices"
	"sort"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/procq/procq/record"
)

// WithStatus returns a new Index with the updates applied, sharing with ix
// everything a status change leaves alone: records are never copied; only
// the chunks of the status columns holding an updated row, and the
// process_status and is_auto bitmaps of the values rows move from or to,
// are new. ix is not modified. Of several updates of one process the later
// wins (proc_inst_infos: the later that sets it). It also returns the ids
// of updates naming no process.
func (ix *Index) WithStatus(ups []record.StatusUpdate) (*Index, []int64) {
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	targets, missing := ix.locate(ups, sc)
	nx := *ix
	nx.cols = ix.cols.withChunks()
	p := patcher{ups: ups, cols: &nx.cols, infos: newInfoBuf(ups)}
	p.st = statusWriter{col: &nx.cols.status, orig: &ix.cols.status}
	p.status.reset(sc.status[:], len(targets))
	p.auto.reset(sc.auto[:], len(targets))
	for lo := 0; lo < len(targets); {
		c := targets[lo].row >> chunkBits
		hi := lo + 1
		for hi < len(targets) && targets[hi].row>>chunkBits == c {
			hi++
		}
		p.patchChunk(int(c), targets[lo:hi])
		lo = hi
	}
	nx.Status = ix.Status.withMoves(&p.status, sc)
	nx.IsAuto = ix.IsAuto.withMoves(&p.auto, sc)
	sc.status = [3][]uint32{p.status.rows, p.status.from, p.status.to}
	sc.auto = [3][]uint32{p.auto.rows, p.auto.from, p.auto.to}
	return &nx, missing
}

// scratch holds the temporary buffers of a WithStatus, reused through
// scratchPool: a batch of 100k needs about 12 MB of them, and every byte
// a batch allocates brings the next collection of the whole heap (every
// record) closer. Nothing in it outlives the call.
type scratch struct {
	byID, pairTmp      []intPair
	rowOf              []uint32
	targets, targetTmp []target
	status, auto       [3][]uint32 // moveSet rows, from, to
	flat               []uint32
	start              []int
	dense              []uint64
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// grow returns b resized to n, reusing its array when it is large enough.
func grow[T any](b []T, n int) []T {
	if cap(b) < n {
		return make([]T, n)
	}
	return b[:n]
}

// target is an update (ups[k]) with the row it applies to; it carries the
// update's status so that applying targets in row order reads them in
// order, not ups at random.
type target struct {
	row, k uint32
	status int64
	auto   bool
	infos  bool // ups[k].SetProcInstInfos
}

// locate finds each update's row and returns the updates in row order,
// ties in update order, with the ids naming no process, ascending. Rows
// are found by ascending id, one forward search from the previous id, so
// the sorted ids are read front to back once.
func (ix *Index) locate(ups []record.StatusUpdate, sc *scratch) ([]target, []int64) {
	sc.byID = grow(sc.byID, len(ups)) // id, update
	byID := sc.byID
	for k := range ups {
		byID[k] = intPair{ups[k].ProcessID, uint32(k)}
	}
	sc.pairTmp = grow(sc.pairTmp, len(ups))
	byID = radixSortWith(byID, sc.pairTmp)
	const none = ^uint32(0)
	sc.rowOf = grow(sc.rowOf, len(ups))
	rowOf := sc.rowOf
	var missing []int64
	at := 0
	for _, p := range byID {
		at = ix.seekProcess(at, p.v)
		if at == len(ix.pids) || ix.pids[at] != p.v {
			missing = append(missing, p.v)
			rowOf[p.row] = none
			continue
		}
		rowOf[p.row] = ix.pidRows[at]
	}
	targets := grow(sc.targets, len(ups)-len(missing))[:0]
	for k, row := range rowOf {
		if row != none {
			u := &ups[k]
			targets = append(targets, target{row, uint32(k), u.ProcessStatus, u.IsAuto, u.SetProcInstInfos})
		}
	}
	sc.targets, sc.targetTmp = targets, grow(sc.targetTmp, len(targets))
	return sortTargets(targets, sc.targetTmp), missing
}

// sortTargets sorts ts by row, stably: a radix sort on 16-bit digits, tmp
// (as long as ts) its other buffer.
func sortTargets(ts, tmp []target) []target {
	var counts [1 << 16]int
	for shift := uint(0); shift < 32; shift += 16 {
		clear(counts[:])
		for _, t := range ts {
			counts[t.row>>shift&0xffff]++
		}
		sum := 0
		for d, c := range counts {
			counts[d] = sum
			sum += c
		}
		for _, t := range ts {
			d := t.row >> shift & 0xffff
			tmp[counts[d]] = t
			counts[d]++
		}
		ts, tmp = tmp, ts
	}
	return ts
}

// patcher applies a batch to columns whose chunk-pointer slices are its
// own, copying each chunk before its first change, and records the rows
// that move between status and is_auto values.
type patcher struct {
	ups          []record.StatusUpdate
	cols         *columns
	infos        infoBuf
	st           statusWriter
	status, auto moveSet
	// offs and lists collect the proc_inst_infos set in one chunk.
	offs  []uint16
	lists [][]record.ProcInstInfo
}

// patchChunk applies the updates ts, all of rows in chunk c.
func (p *patcher) patchChunk(c int, ts []target) {
	au := p.cols.auto[c]
	offs, lists := p.offs[:0], p.lists[:0]
	for i := 0; i < len(ts); {
		row := ts[i].row
		j := i + 1
		for j < len(ts) && ts[j].row == row {
			j++
		}
		last := &ts[j-1]
		off := row & chunkMask
		if old := p.st.set(row, last.status); old != last.status {
			p.status.move(row, old, last.status)
		}
		bit := uint64(1) << (off & 63)
		if old := au[off>>6]&bit != 0; old != last.auto {
			if au == p.cols.auto[c] {
				au = new(autoChunk)
				*au = *p.cols.auto[c]
			}
			au[off>>6] ^= bit
			p.auto.move(row, boolTerm(old), boolTerm(last.auto))
		}
		for k := j - 1; k >= i; k-- {
			if ts[k].infos {
				offs, lists = append(offs, uint16(off)), append(lists, p.infos.clone(p.ups[ts[k].k].ProcInstInfos))
				break
			}
		}
		i = j
	}
	p.cols.auto[c] = au
	if len(offs) > 0 {
		p.cols.infos[c] = mergeInfos(p.cols.infos[c], offs, lists)
	}
	clear(lists) // the merged chunk holds its own copy
	p.offs, p.lists = offs, lists
}

// infoBuf copies the proc_inst_infos lists of a batch into one block.
type infoBuf struct{ flat []record.ProcInstInfo }

func newInfoBuf(ups []record.StatusUpdate) infoBuf {
	n := 0
	for i := range ups {
		if ups[i].SetProcInstInfos {
			n += len(ups[i].ProcInstInfos)
		}
	}
	return infoBuf{flat: make([]record.ProcInstInfo, 0, n)}
}

// clone returns a copy of l, nil for nil, capped so that it never grows
// into its neighbours.
func (b *infoBuf) clone(l []record.ProcInstInfo) []record.ProcInstInfo {
	if len(l) == 0 {
		return l[:0:0]
	}
	lo := len(b.flat)
	b.flat = append(b.flat, l...)
	return b.flat[lo:len(b.flat):len(b.flat)]
}

// moveSet collects the rows that move between values: in one flat list
// while a batch is applied, then grouped per value (rowsOf).
type moveSet struct {
	vals     []int64
	ids      map[int64]uint32 // once vals is long
	rows     []uint32
	from, to []uint32 // positions in vals
}

// reset empties s, keeping bufs (rows, from, to) as its arrays, with room
// for n moves.
func (s *moveSet) reset(bufs [][]uint32, n int) {
	s.rows, s.from, s.to = grow(bufs[0], n)[:0], grow(bufs[1], n)[:0], grow(bufs[2], n)[:0]
}

// move takes row from value from to value to.
func (s *moveSet) move(row uint32, from, to int64) {
	s.rows = append(s.rows, row)
	s.from = append(s.from, s.find(from))
	s.to = append(s.to, s.find(to))
}

// find returns the position of v in vals, adding it if new. A batch moves
// rows between a handful of values, so a short list is searched in order.
func (s *moveSet) find(v int64) uint32 {
	if s.ids == nil {
		for i, x := range s.vals {
			if x == v {
				return uint32(i)
			}
		}
		if len(s.vals) >= 16 {
			s.ids = make(map[int64]uint32, 2*len(s.vals))
			for i, x := range s.vals {
				s.ids[x] = uint32(i)
			}
		}
	}
	if s.ids != nil {
		if i, ok := s.ids[v]; ok {
			return i
		}
		s.ids[v] = uint32(len(s.vals))
	}
	s.vals = append(s.vals, v)
	return uint32(len(s.vals) - 1)
}

// rowsOf returns, per value of vals, the rows that left it and the rows
// that joined it, each in the order they were moved; the lists live in
// sc.flat.
func (s *moveSet) rowsOf(sc *scratch) (out, in [][]uint32) {
	sc.flat = grow(sc.flat, 2*len(s.rows))
	sc.start = grow(sc.start, len(s.vals)+1)
	out = group(s.rows, s.from, len(s.vals), sc.flat[:len(s.rows)], sc.start)
	in = group(s.rows, s.to, len(s.vals), sc.flat[len(s.rows):], sc.start)
	return out, in
}

// group returns the rows of each of n values, by the value of each row,
// in flat (as long as rows); start is a buffer of n+1.
func group(rows, val []uint32, n int, flat []uint32, start []int) [][]uint32 {
	clear(start)
	for _, v := range val {
		start[v+1]++
	}
	for v := range n {
		start[v+1] += start[v]
	}
	groups := make([][]uint32, n)
	for v := range n {
		groups[v] = flat[start[v]:start[v]:start[v+1]]
	}
	for i, v := range val {
		groups[v] = append(groups[v], rows[i])
	}
	return groups
}

// withMoves returns t with the moves applied, sharing every bitmap of a
// value no row moved from or to; t itself when nothing moved.
func (t *IntTerms) withMoves(s *moveSet, sc *scratch) *IntTerms {
	if len(s.vals) == 0 {
		return t
	}
	c := &IntTerms{values: t.values, postings: postings{spans: t.spans, lists: t.lists, bms: t.bms}}
	c.insertValues(s.vals)
	out, in := s.rowsOf(sc)
	for i, v := range s.vals {
		id, _ := c.lookup(v)
		var b *roaring.Bitmap
		if len(out[i]) > 0 {
			b = roaring.AndNot(c.rows(id), sc.bitmapOf(out[i]))
		} else {
			b = c.rows(id).Clone()
		}
		if len(in[i]) > 0 {
			b.Or(sc.bitmapOf(in[i]))
		}
		c.setBitmap(id, b)
	}
	return c
}

// bitmapOf returns a bitmap of rows, ascending. Many rows are set in a
// dense word array (sc.dense) converted once, which is several times
// cheaper than adding them to array containers one by one (the AddMany of
// BenchmarkWithStatus/status/100000 at 1M rows). The bitmap is a copy.
func (sc *scratch) bitmapOf(rows []uint32) *roaring.Bitmap {
	if len(rows) < 4096 {
		return roaring.BitmapOf(rows...)
	}
	sc.dense = grow(sc.dense, int(rows[len(rows)-1]/64+1))
	clear(sc.dense)
	for _, r := range rows {
		sc.dense[r>>6] |= 1 << (r & 63)
	}
	return roaring.FromDense(sc.dense, true)
}

// insertValues gives t its own copies of its values, spans and bitmap map,
// with a term (no rows) for each of vs it lacks; term ids are renumbered.
func (t *IntTerms) insertValues(vs []int64) {
	var fresh []int64
	for _, v := range vs {
		if _, ok := t.lookup(v); !ok {
			fresh = append(fresh, v)
		}
	}
	if len(fresh) == 0 {
		t.values, t.spans, t.bms = slices.Clone(t.values), slices.Clone(t.spans), slices.Clone(t.bms)
		return
	}
	slices.Sort(fresh)
	values := slices.Concat(t.values, fresh)
	slices.Sort(values)
	// newID[i] is the new id of old term i.
	newID := make([]uint32, len(t.values))
	for i, v := range t.values {
		j, _ := slices.BinarySearch(values, v)
		newID[i] = uint32(j)
	}
	spans := make([]Span, len(values))
	bms := slices.Clone(t.bms) // a bitmap term's span keeps its index
	for i := range t.values {
		spans[newID[i]] = t.spans[i]
	}
	for _, v := range fresh {
		j, _ := slices.BinarySearch(values, v)
		spans[j] = Span{Lo: uint32(len(bms))}
		bms = append(bms, roaring.New())
	}
	t.values, t.spans, t.bms = values, spans, bms
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
