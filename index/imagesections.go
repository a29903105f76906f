package index

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/procq/procq/record"
)

// meta: [bizLo u32s, bizID i64s, pids i64s, pidRows u32s, pidByRow i64s or nil]
func (ix *Index) writeMeta(w *imgWriter) {
	w.array(5)
	words(w, ix.rc.bizLo)
	words(w, ix.rc.bizID)
	words(w, ix.pids)
	words(w, ix.pidRows)
	if ix.rc.pidByRow == nil {
		w.nil()
	} else {
		words(w, ix.rc.pidByRow)
	}
}

func (ix *Index) readMeta(r *imgReader) {
	n := ix.n
	r.array(5, "meta")
	rc := &ix.rc
	rc.bizLo = readWords[uint32](r, -1, "business rows")
	rc.bizID = readWords[int64](r, len(rc.bizLo), "business ids")
	for i, lo := range rc.bizLo {
		if (i == 0 && lo != 0) || (i > 0 && lo <= rc.bizLo[i-1]) || int(lo) >= n {
			r.failf("business rows not ascending from 0 below %d", n)
			break
		}
	}
	if n > 0 && len(rc.bizLo) == 0 {
		r.failf("rows without a business")
	}
	ix.pids = readWords[int64](r, n, "process ids")
	ix.pidRows = readWords[uint32](r, n, "process rows")
	below(r, ix.pidRows, uint64(n), "process rows")
	if !r.isNil() {
		rc.pidByRow = readWords[int64](r, n, "process ids by row")
	}
}

// scalars: [id, procTmpl, svcTmpl ints, hasSvcTmpl bits, cloud, svcInst
// uints, derived bits, expr, ipv6, agent dicts]
func (ix *Index) writeScalars(w *imgWriter) {
	rc := &ix.rc
	w.array(10)
	w.ints(&rc.id)
	w.ints(&rc.procTmpl)
	w.ints(&rc.svcTmpl)
	w.bits(rc.hasSvcTmpl)
	w.uints(&rc.cloud)
	w.uints(&rc.svcInst)
	w.bits(rc.derived)
	w.dict(&rc.expr)
	w.dict(&rc.ipv6)
	w.dict(&rc.agent)
}

func (ix *Index) readScalars(r *imgReader) {
	rc, n := &ix.rc, ix.n
	r.array(10, "scalars")
	rc.id = r.ints(n, "id")
	rc.procTmpl = r.ints(n, "process_template_id")
	rc.svcTmpl = r.ints(n, "service_template_id")
	rc.hasSvcTmpl = r.bits(n, "has service template")
	// Term ids into CloudID and ServiceInstanceID: checked by link.
	rc.cloud = r.uints(n, math.MaxUint64, "cloud terms")
	rc.svcInst = r.uints(n, math.MaxUint64, "service instance terms")
	rc.derived = r.bits(n, "derived")
	rc.expr = r.dict(n, "expression")
	rc.ipv6 = r.dict(n, "ipv6")
	rc.agent = r.dict(n, "agent id")
}

// configs: [lists, id ints, template name dict, file name dict]
func (ix *Index) writeConfigs(w *imgWriter) {
	c := &ix.rc.ct
	w.array(4)
	w.lists(&c.lists)
	w.ints(&c.id)
	w.dict(&c.tmpl)
	w.dict(&c.file)
}

func (ix *Index) readConfigs(r *imgReader) {
	c := &ix.rc.ct
	r.array(4, "configs")
	var items int
	c.lists, items = r.lists(ix.n, "config lists")
	c.id = r.ints(items, "config_template_id")
	c.tmpl = r.dict(items, "template_name")
	c.file = r.dict(items, "file_name")
}

// infos: [lists, pidDelta, local, inst, status ints, auto bits]
func (ix *Index) writeInfos(w *imgWriter) {
	c := &ix.rc.pi
	w.array(6)
	w.lists(&c.lists)
	w.ints(&c.pidDelta)
	w.ints(&c.local)
	w.ints(&c.inst)
	w.ints(&c.status)
	w.bits(c.auto)
}

func (ix *Index) readInfos(r *imgReader) {
	c := &ix.rc.pi
	r.array(6, "infos")
	var items int
	c.lists, items = r.lists(ix.n, "info lists")
	c.pidDelta = r.ints(items, "info process id")
	c.local = r.ints(items, "local_inst_id")
	c.inst = r.ints(items, "inst_id")
	c.status = r.ints(items, "info status")
	c.auto = r.bits(items, "info is_auto")
}

// status: [wide bool, dict i64s, codes u8s or values i64s, auto u64s,
// overrides: array of [row, nil or array of [pid, local, inst, status,
// auto]]]
func (ix *Index) writeStatus(w *imgWriter) {
	c, n := &ix.cols, ix.n
	w.array(5)
	w.bool(c.status.wide != nil)
	words(w, c.status.dict)
	if c.status.wide != nil {
		vals := make([]int64, 0, len(c.status.wide)*chunkSize)
		for _, ch := range c.status.wide {
			vals = append(vals, ch[:]...)
		}
		words(w, vals[:n])
	} else {
		codes := make([]uint8, 0, len(c.status.narrow)*chunkSize)
		for _, ch := range c.status.narrow {
			codes = append(codes, ch[:]...)
		}
		words(w, codes[:n])
	}
	auto := make([]uint64, 0, len(c.auto)*len(autoChunk{}))
	for _, ch := range c.auto {
		auto = append(auto, ch[:]...)
	}
	words(w, auto)
	var rows int
	for _, ch := range c.infos {
		if ch != nil {
			rows += len(ch.offs)
		}
	}
	w.array(rows)
	for ci, ch := range c.infos {
		if ch == nil {
			continue
		}
		for i, off := range ch.offs {
			w.array(2)
			w.uint(uint64(ci<<chunkBits | int(off)))
			if ch.lists[i] == nil {
				w.nil()
				continue
			}
			w.array(len(ch.lists[i]))
			for _, p := range ch.lists[i] {
				w.array(5)
				w.int(p.ProcessID)
				w.int(p.LocalInstID)
				w.int(p.InstID)
				w.int(p.ProcessStatus)
				w.bool(p.IsAuto)
			}
		}
	}
}

func (ix *Index) readStatus(r *imgReader) {
	n := ix.n
	nc := (n + chunkMask) >> chunkBits
	r.array(5, "status")
	wide := r.bool()
	dict := readWords[int64](r, -1, "status values")
	c := &ix.cols
	if wide {
		vals := readWords[int64](r, n, "status")
		if r.err != nil {
			return
		}
		c.status.wide = make([]*statusChunk, nc)
		for i := range c.status.wide {
			ch := new(statusChunk)
			copy(ch[:], vals[i<<chunkBits:])
			c.status.wide[i] = ch
		}
	} else {
		codes := readWords[uint8](r, n, "status codes")
		if len(dict) > 256 || (n > 0 && len(dict) == 0) {
			r.failf("%d status values for one-byte codes", len(dict))
		}
		if r.err != nil {
			return
		}
		maxCode := uint8(max(len(dict)-1, 0))
		c.status.dict, c.status.narrow = dict, make([]*narrowChunk, nc)
		for i := range c.status.narrow {
			ch := new(narrowChunk)
			copy(ch[:], codes[i<<chunkBits:])
			c.status.narrow[i] = ch
		}
		for _, code := range codes {
			if code > maxCode {
				r.failf("status code %d of %d values", code, len(dict))
				break
			}
		}
	}
	auto := readWords[uint64](r, nc*len(autoChunk{}), "is_auto")
	if r.err != nil {
		return
	}
	c.auto = make([]*autoChunk, nc)
	for i := range c.auto {
		ch := new(autoChunk)
		copy(ch[:], auto[i*len(ch):])
		c.auto[i] = ch
	}
	c.infos = make([]*infoChunk, nc)
	r.readOverrides(c.infos, n)
}

// readOverrides reads the proc_inst_infos lists status updates set.
func (r *imgReader) readOverrides(chunks []*infoChunk, n int) {
	rows := r.count(2, "info overrides")
	last := -1
	for range rows {
		r.array(2, "info override")
		row := r.bounded(uint64(max(n-1, 0)), "override row")
		if r.err != nil {
			return
		}
		if row <= last || n == 0 {
			r.failf("override rows not ascending")
			return
		}
		last = row
		var l []record.ProcInstInfo
		if !r.isNil() {
			l = make([]record.ProcInstInfo, r.count(6, "override list"))
		}
		for i := range l {
			r.array(5, "proc_inst_info")
			l[i] = record.ProcInstInfo{ProcessID: r.int(), LocalInstID: r.int(), InstID: r.int(), ProcessStatus: r.int(), IsAuto: r.bool()}
		}
		ch := chunks[row>>chunkBits]
		if ch == nil {
			ch = new(infoChunk)
			chunks[row>>chunkBits] = ch
		}
		ch.offs, ch.lists = append(ch.offs, uint16(row&chunkMask)), append(ch.lists, l)
	}
}

// postings: [spans u32s (lo, hi per term), lists u32s, bitmaps: array of
// [term, bitmap]]. A listed term's span is as in memory (listed plus where
// its list starts, where it ends). An image of snapshot version 2 has no
// lists: [spans, bitmaps].
func (w *imgWriter) postings(p *postings) {
	w.array(3)
	flat := make([]uint32, 0, 2*len(p.spans))
	var ids []uint32
	for id, s := range p.spans {
		if s.Hi == 0 {
			// A bitmap term: on disk, an empty span and its id in the
			// list below (the index into bms is memory's business).
			s.Lo, ids = 0, append(ids, uint32(id))
		}
		flat = append(flat, s.Lo, s.Hi)
	}
	words(w, flat)
	words(w, p.lists)
	w.array(len(ids))
	for _, id := range ids {
		w.array(2)
		w.uint(uint64(id))
		w.bitmap(p.bitmap(id))
	}
}

// postings reads the postings of terms terms over n rows.
func (r *imgReader) postings(terms, n int) postings {
	parts := r.arrayLen("postings")
	if parts != 2 && parts != 3 && r.err == nil {
		r.failf("postings: %d elements, want 2 or 3", parts)
	}
	flat := readWords[uint32](r, 2*terms, "spans")
	p := postings{spans: make([]Span, terms)}
	if parts == 3 {
		p.lists = readWords[uint32](r, -1, "lists")
	}
	if r.err != nil {
		return p
	}
	for i := range p.spans {
		s := Span{flat[2*i], flat[2*i+1]}
		if err := p.checkSpan(s, n); err != nil {
			r.failf("term %d: %v", i, err)
			break
		}
		p.spans[i] = s
	}
	nb := r.count(3, "bitmaps")
	p.bms = make([]*roaring.Bitmap, 0, nb)
	last := -1
	for range nb {
		r.array(2, "bitmap")
		id := int(r.bounded(uint64(max(terms-1, 0)), "bitmap term"))
		b := r.bitmap(n)
		if r.err != nil {
			break
		}
		if id <= last || p.spans[id].Hi != 0 {
			r.failf("bitmap of term %d: after term %d, or of a term with a span or list", id, last)
			break
		}
		last = id
		p.spans[id].Lo = uint32(len(p.bms))
		p.bms = append(p.bms, b)
	}
	if bitmapTerms := countBitmapTerms(p.spans); bitmapTerms != len(p.bms) && r.err == nil {
		r.failf("%d terms without a span, %d bitmaps", bitmapTerms, len(p.bms))
	}
	return p
}

// checkSpan says what is wrong with span s of a term over n rows: it must
// be a range within the rows, or a list within p.lists of rows ascending
// and below n.
func (p *postings) checkSpan(s Span, n int) error {
	switch {
	case s.Lo >= listed:
		lo := s.Lo - listed
		if lo >= s.Hi || int(s.Hi) > len(p.lists) {
			return fmt.Errorf("list [%d, %d) of %d listed rows", lo, s.Hi, len(p.lists))
		}
		l := p.lists[lo:s.Hi]
		for i := 1; i < len(l); i++ {
			if l[i] <= l[i-1] {
				return fmt.Errorf("list rows not ascending at %d", lo+uint32(i))
			}
		}
		if int(l[len(l)-1]) >= n {
			return fmt.Errorf("listed row %d of %d rows", l[len(l)-1], n)
		}
	case s.Hi != 0 && (s.Lo >= s.Hi || int(s.Hi) > n):
		return fmt.Errorf("span [%d, %d) of %d rows", s.Lo, s.Hi, n)
	}
	return nil
}

// countBitmapTerms returns how many of spans are not spans (Hi 0).
func countBitmapTerms(spans []Span) int {
	n := 0
	for _, s := range spans {
		if s.Hi == 0 {
			n++
		}
	}
	return n
}

// int terms: [values i64s, postings]
func (w *imgWriter) intTerms(t *IntTerms) {
	w.array(2)
	words(w, t.values)
	w.postings(&t.postings)
}

func (r *imgReader) intTerms(n int) *IntTerms {
	r.array(2, "int terms")
	values := readWords[int64](r, -1, "values")
	for i := 1; i < len(values); i++ {
		if values[i] <= values[i-1] {
			r.failf("values not ascending")
			break
		}
	}
	return &IntTerms{values: values, postings: r.postings(len(values), n)}
}

// str terms: [terms packed bin, term ends u32s, rowTerm u32s, trigrams,
// postings, suffixes bool, suffix order u32s or nil]
func (w *imgWriter) strTerms(t *StrTerms) {
	w.array(7)
	ends := make([]uint32, len(t.terms))
	var packed strings.Builder
	for i, term := range t.terms {
		packed.WriteString(term)
		ends[i] = uint32(packed.Len())
	}
	w.str(packed.String())
	words(w, ends)
	words(w, t.rowTerm)
	w.trigrams(t.grams)
	w.postings(&t.postings)
	w.bool(t.suffixes)
	if ids := t.suffixOrder(); len(ids) > 0 {
		words(w, ids)
	} else {
		w.nil()
	}
}

func (r *imgReader) strTerms(n int) *StrTerms {
	r.array(7, "str terms")
	all := r.str()
	ends := readWords[uint32](r, -1, "term ends")
	t := &StrTerms{terms: make([]string, len(ends))}
	lo := uint32(0)
	for i, e := range ends {
		if e < lo || int(e) > len(all) {
			r.failf("term ends not ascending within %d bytes", len(all))
			break
		}
		t.terms[i], lo = all[lo:e], e
	}
	for i := 0; i < len(all); i++ {
		t.alphabet[all[i]] = true
	}
	t.rowTerm = readWords[uint32](r, n, "row terms")
	below(r, t.rowTerm, uint64(len(ends)), "row terms")
	t.grams = r.trigrams(len(ends))
	t.postings = r.postings(len(ends), n)
	t.suffixes = r.bool()
	if !r.isNil() {
		ids := readWords[uint32](r, len(ends), "suffix order")
		below(r, ids, uint64(len(ends)), "suffix order")
		if r.err == nil {
			t.setSuffixOrder(ids)
		}
	}
	t.suffixOnce.Do(func() {}) // read, or not wanted when nil
	if t.suffixes && t.bySuffix == nil && len(ends) > 0 {
		r.failf("suffix order missing")
	}
	return t
}

// trigrams: [keys, list, count, off u32s, data bin]
func (w *imgWriter) trigrams(g *trigrams) {
	w.array(5)
	words(w, g.keys)
	words(w, g.list)
	words(w, g.count)
	words(w, g.off)
	w.bin(g.data)
}

// trigrams reads the trigrams of a dictionary of terms terms, checking
// that every list decodes to ascending term ids and that the table has
// an empty slot (a lookup ends there).
func (r *imgReader) trigrams(terms int) *trigrams {
	r.array(5, "trigrams")
	g := &trigrams{}
	g.keys = readWords[uint32](r, -1, "trigram keys")
	g.list = readWords[uint32](r, len(g.keys), "trigram lists")
	g.count = readWords[uint32](r, -1, "trigram counts")
	g.off = readWords[uint32](r, len(g.count)+1, "trigram offsets")
	g.data = r.binCopy()
	if r.err != nil {
		return g
	}
	if len(g.keys)&(len(g.keys)-1) != 0 || (len(g.keys) > 0 && !slices.Contains(g.keys, 0)) {
		r.failf("trigram table of %d slots", len(g.keys))
		return g
	}
	for i, k := range g.keys {
		if k != 0 && int(g.list[i]) >= len(g.count) {
			r.failf("trigram list %d of %d", g.list[i], len(g.count))
			return g
		}
	}
	if g.off[0] != 0 || int(g.off[len(g.count)]) != len(g.data) {
		r.failf("trigram offsets do not span the data")
		return g
	}
	for l := range g.count {
		if g.off[l] > g.off[l+1] {
			r.failf("trigram offsets not ascending")
			return g
		}
	}
	for l := range g.count { // offsets ascend to len(data)
		r.checkGrams(g.data[g.off[l]:g.off[l+1]], g.count[l], terms)
	}
	return g
}

// checkGrams checks one trigram list: count ascending term ids below
// terms, as uvarint deltas from 1 + the previous id.
func (r *imgReader) checkGrams(data []byte, count uint32, terms int) {
	var v uint64
	var got uint32
	for len(data) > 0 {
		d, k := binary.Uvarint(data)
		if k <= 0 || d == 0 {
			r.failf("trigram list: malformed")
			return
		}
		data, v, got = data[k:], v+d, got+1
		if v > uint64(terms) {
			r.failf("trigram list: term %d of %d", v-1, terms)
			return
		}
	}
	if got != count {
		r.failf("trigram list: %d terms, count says %d", got, count)
	}
}

// order: [perm u32s, rank u32s or nil, group starts u64s or nil, unique
// bool, blocks: array of bitmaps]
func (w *imgWriter) order(o *Order, ownRank bool) {
	w.array(5)
	words(w, o.Perm)
	if ownRank {
		words(w, o.Rank)
	} else {
		w.nil()
	}
	if o.groupStart == nil {
		w.nil()
	} else {
		words(w, o.groupStart)
	}
	w.bool(o.Unique)
	w.array(len(o.blocks))
	for _, b := range o.blocks {
		w.bitmap(b)
	}
}

func (r *imgReader) order(n int, ownRank bool) Order {
	r.array(5, "order")
	var o Order
	o.Perm = readWords[uint32](r, n, "permutation")
	below(r, o.Perm, uint64(n), "permutation")
	if ownRank {
		o.Rank = readWords[uint32](r, n, "ranks")
	} else if !r.isNil() {
		r.failf("order ranks held by the process name terms expected")
	}
	if !r.isNil() {
		o.groupStart = readWords[uint64](r, (n+63)>>6, "group starts")
	}
	o.Unique = r.bool()
	if !o.Unique && o.groupStart == nil && r.err == nil {
		r.failf("group starts missing")
	}
	nb := r.count(2, "blocks")
	if want := (n + BlockSize - 1) / BlockSize; nb != want && r.err == nil {
		r.failf("%d blocks, want %d", nb, want)
	}
	o.blocks = make([]*roaring.Bitmap, 0, nb)
	for range nb {
		if b := r.bitmap(n); b != nil {
			o.blocks = append(o.blocks, b)
		}
	}
	return o
}
