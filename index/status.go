package index

import (
	"cmp"
	"maps"
	"slices"
	"sort"

	"github.com/RoaringBitmap/roaring/v2"

	"procq/record"
)

// WithStatus returns a new Index with the updates applied, sharing with ix
// everything a status change leaves alone: records are never copied; only
// the chunks of the status columns holding an updated row, and the
// process_status and is_auto bitmaps of the values rows move from or to,
// are new. ix is not modified. Of several updates of one process the later
// wins (proc_inst_infos: the later that sets it). It also returns the ids
// of updates naming no process.
func (ix *Index) WithStatus(ups []record.StatusUpdate) (*Index, []int64) {
	targets, missing := ix.locate(ups)
	nx := *ix
	nx.cols = ix.cols.withChunks()
	p := patcher{ups: ups, cols: &nx.cols, infos: newInfoBuf(ups)}
	for lo := 0; lo < len(targets); {
		c := targets[lo].row >> chunkBits
		hi := lo + 1
		for hi < len(targets) && targets[hi].row>>chunkBits == c {
			hi++
		}
		p.patchChunk(int(c), targets[lo:hi])
		lo = hi
	}
	nx.Status = ix.Status.withMoves(&p.status)
	nx.IsAuto = ix.IsAuto.withMoves(&p.auto)
	return &nx, missing
}

// target is the row an update (ups[k]) applies to.
type target struct{ row, k uint32 }

// locate finds each update's row and returns them in row order, ties in
// update order, with the ids naming no process. Rows are found by
// ascending id, one forward search from the previous id, so the sorted
// ids are read front to back once.
func (ix *Index) locate(ups []record.StatusUpdate) ([]target, []int64) {
	byID := make([]uint32, len(ups))
	for i := range byID {
		byID[i] = uint32(i)
	}
	slices.SortFunc(byID, func(a, b uint32) int { return cmp.Compare(ups[a].ProcessID, ups[b].ProcessID) })
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
		targets = append(targets, target{ix.pidRows[at], k})
	}
	slices.SortFunc(targets, func(a, b target) int {
		if c := cmp.Compare(a.row, b.row); c != 0 {
			return c
		}
		return cmp.Compare(a.k, b.k)
	})
	return targets, missing
}

// patcher applies a batch to columns whose chunk-pointer slices are its
// own, copying each chunk before its first change, and records the rows
// that move between status and is_auto values.
type patcher struct {
	ups          []record.StatusUpdate
	cols         *columns
	infos        infoBuf
	status, auto moveSet
}

// patchChunk applies the updates ts, all of rows in chunk c.
func (p *patcher) patchChunk(c int, ts []target) {
	st, au := p.cols.status[c], p.cols.auto[c]
	var offs []uint16
	var lists [][]record.ProcInstInfo
	for i := 0; i < len(ts); {
		row := ts[i].row
		j := i + 1
		for j < len(ts) && ts[j].row == row {
			j++
		}
		last := &p.ups[ts[j-1].k]
		off := row & chunkMask
		if old := st[off]; old != last.ProcessStatus {
			if st == p.cols.status[c] {
				st = new(statusChunk)
				*st = *p.cols.status[c]
			}
			st[off] = last.ProcessStatus
			p.status.move(row, old, last.ProcessStatus)
		}
		bit := uint64(1) << (off & 63)
		if old := au[off>>6]&bit != 0; old != last.IsAuto {
			if au == p.cols.auto[c] {
				au = new(autoChunk)
				*au = *p.cols.auto[c]
			}
			au[off>>6] ^= bit
			p.auto.move(row, boolTerm(old), boolTerm(last.IsAuto))
		}
		for k := j - 1; k >= i; k-- {
			if u := &p.ups[ts[k].k]; u.SetProcInstInfos {
				offs, lists = append(offs, uint16(off)), append(lists, p.infos.clone(u.ProcInstInfos))
				break
			}
		}
		i = j
	}
	p.cols.status[c], p.cols.auto[c] = st, au
	if len(offs) > 0 {
		p.cols.infos[c] = mergeInfos(p.cols.infos[c], offs, lists)
	}
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

// moveSet collects, per value, the rows that leave it and the rows that
// join it, each ascending when rows are moved in ascending order.
type moveSet struct {
	vals  []int64
	moves []rowMoves
	ids   map[int64]int // once vals is long
}

type rowMoves struct{ out, in []uint32 }

// move takes row from value from to value to.
func (s *moveSet) move(row uint32, from, to int64) {
	f := s.find(from)
	s.moves[f].out = append(s.moves[f].out, row)
	t := s.find(to)
	s.moves[t].in = append(s.moves[t].in, row)
}

// find returns the position of v in vals, adding it if new. A batch moves
// rows between a handful of values, so a short list is searched in order.
func (s *moveSet) find(v int64) int {
	if s.ids == nil {
		for i, x := range s.vals {
			if x == v {
				return i
			}
		}
		if len(s.vals) >= 16 {
			s.ids = make(map[int64]int, 2*len(s.vals))
			for i, x := range s.vals {
				s.ids[x] = i
			}
		}
	}
	if s.ids != nil {
		if i, ok := s.ids[v]; ok {
			return i
		}
		s.ids[v] = len(s.vals)
	}
	s.vals = append(s.vals, v)
	s.moves = append(s.moves, rowMoves{})
	return len(s.vals) - 1
}

// withMoves returns t with the moves applied, sharing every bitmap of a
// value no row moved from or to; t itself when nothing moved.
func (t *IntTerms) withMoves(s *moveSet) *IntTerms {
	if len(s.vals) == 0 {
		return t
	}
	c := &IntTerms{values: t.values, postings: postings{spans: t.spans, bms: t.bms}}
	c.insertValues(s.vals)
	for i, v := range s.vals {
		id, _ := c.lookup(v)
		m := &s.moves[i]
		var b *roaring.Bitmap
		if len(m.out) > 0 {
			b = roaring.AndNot(c.rows(id), roaring.BitmapOf(m.out...))
		} else {
			b = c.rows(id).Clone()
		}
		if len(m.in) > 0 {
			b.Or(roaring.BitmapOf(m.in...))
		}
		c.spans[id] = Span{}
		c.bms[id] = b
	}
	return c
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
		t.values, t.spans, t.bms = slices.Clone(t.values), slices.Clone(t.spans), maps.Clone(t.bms)
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
	bms := make(map[uint32]*roaring.Bitmap, len(t.bms)+len(fresh))
	for i := range t.values {
		spans[newID[i]] = t.spans[i]
		if b, ok := t.bms[uint32(i)]; ok {
			bms[newID[i]] = b
		}
	}
	for _, v := range fresh {
		j, _ := slices.BinarySearch(values, v)
		bms[uint32(j)] = roaring.New()
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
