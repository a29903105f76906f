package index

import "slices"

// narrowChunk holds one-byte status codes of a chunk's rows.
type narrowChunk [chunkSize]uint8

// statusColumn holds the process_status of every row: as one-byte codes
// into dict while the index and those it derives from have seen at most
// 256 distinct values (GSE reports a handful), otherwise as the values
// themselves (wide). One byte a row makes a batch that touches every chunk
// copy 1 MB at 1M rows instead of 8 MB.
type statusColumn struct {
	dict   []int64 // code → value; never changed once published
	narrow []*narrowChunk
	wide   []*statusChunk // non-nil once wide
}

// newStatusColumn returns the column of rows whose term ids are rowTerm
// over the ascending values.
func newStatusColumn(rowTerm []uint32, values []int64) statusColumn {
	nc := (len(rowTerm) + chunkMask) >> chunkBits
	if len(values) > 256 {
		wide := make([]*statusChunk, nc)
		for c := range wide {
			ch := new(statusChunk)
			lo := c << chunkBits
			for i, id := range rowTerm[lo:min(lo+chunkSize, len(rowTerm))] {
				ch[i] = values[id]
			}
			wide[c] = ch
		}
		return statusColumn{wide: wide}
	}
	narrow := make([]*narrowChunk, nc)
	for c := range narrow {
		ch := new(narrowChunk)
		lo := c << chunkBits
		for i, id := range rowTerm[lo:min(lo+chunkSize, len(rowTerm))] {
			ch[i] = uint8(id)
		}
		narrow[c] = ch
	}
	return statusColumn{dict: slices.Clip(slices.Clone(values)), narrow: narrow}
}

func (s *statusColumn) get(row uint32) int64 {
	if s.wide != nil {
		return s.wide[row>>chunkBits][row&chunkMask]
	}
	return s.dict[s.narrow[row>>chunkBits][row&chunkMask]]
}

// withChunks returns s with chunk-pointer slices of its own.
func (s *statusColumn) withChunks() statusColumn {
	return statusColumn{dict: s.dict, narrow: slices.Clone(s.narrow), wide: slices.Clone(s.wide)}
}

func (s *statusColumn) sizeInBytes() uint64 {
	return uint64(len(s.dict)*8 + len(s.narrow)*(8+chunkSize) + len(s.wide)*(8+chunkSize*8))
}

// statusWriter patches col, whose chunk-pointer slices are its own,
// copying each chunk shared with orig (the column of the index patched)
// before its first change.
type statusWriter struct {
	col, orig *statusColumn
	ownDict   bool
	codes     map[int64]uint8 // once dict is long
	widened   bool            // every wide chunk is col's own
}

// set gives row the value v and returns the value it had.
func (w *statusWriter) set(row uint32, v int64) int64 {
	c, off := row>>chunkBits, row&chunkMask
	if w.col.wide == nil {
		ch := w.col.narrow[c]
		old := w.col.dict[ch[off]]
		if old == v {
			return old
		}
		if code, ok := w.code(v); ok {
			if ch == w.orig.narrow[c] {
				ch = new(narrowChunk)
				*ch = *w.orig.narrow[c]
				w.col.narrow[c] = ch
			}
			ch[off] = code
			return old
		}
		w.widen()
	}
	ch := w.col.wide[c]
	old := ch[off]
	if old == v {
		return old
	}
	if !w.widened && ch == w.orig.wide[c] {
		ch = new(statusChunk)
		*ch = *w.orig.wide[c]
		w.col.wide[c] = ch
	}
	ch[off] = v
	return old
}

// code returns the code of v, giving it the next one if it has none;
// false when every code is taken.
func (w *statusWriter) code(v int64) (uint8, bool) {
	d := w.col.dict
	if w.codes == nil {
		if i := slices.Index(d, v); i >= 0 {
			return uint8(i), true
		}
		if len(d) >= 16 {
			w.codes = make(map[int64]uint8, 256)
			for i, x := range d {
				w.codes[x] = uint8(i)
			}
		}
	} else if code, ok := w.codes[v]; ok {
		return code, true
	}
	if len(d) == 256 {
		return 0, false
	}
	if !w.ownDict {
		d, w.ownDict = slices.Grow(slices.Clone(d), 8), true
	}
	w.col.dict = append(d, v)
	if w.codes != nil {
		w.codes[v] = uint8(len(d))
	}
	return uint8(len(d)), true
}

// widen turns col into values, copying every chunk.
func (w *statusWriter) widen() {
	wide := make([]*statusChunk, len(w.col.narrow))
	for c, n := range w.col.narrow {
		ch := new(statusChunk)
		for i, code := range n {
			ch[i] = w.col.dict[code]
		}
		wide[c] = ch
	}
	w.col.dict, w.col.narrow, w.col.wide, w.widened = nil, nil, wide, true
}
