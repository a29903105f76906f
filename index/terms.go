package index

import (
	"cmp"
	mbits "math/bits"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"
)

// postings holds the rows of each term of a dictionary. A term whose rows
// are one contiguous run — every set, module and service instance in
// topology order — is kept as a Span (8 bytes) instead of a bitmap (about
// a hundred bytes with its header); a term of at most listMax scattered
// rows — an IP address's processes — as an ascending list in one shared
// array (4 bytes a row, no heap object of its own: 129k addresses were
// 650k objects for every collection to mark); other terms keep a
// run-optimized bitmap.
type postings struct {
	// spans holds, per term, where its rows are:
	//   - Lo >= listed: the list lists[Lo-listed : Hi], never empty;
	//   - else Hi != 0: the range [Lo, Hi);
	//   - else the bitmap bms[Lo] (an index, not a map: a map lookup a
	//     term was a tenth of the server's CPU on the bench mix, and its
	//     buckets more heap to mark).
	spans []Span
	lists []uint32
	bms   []*roaring.Bitmap
}

const (
	// listed marks the span of a listed term; rows are below it.
	listed = 1 << 31
	// listMax is the most rows a term keeps as a list. Every address of
	// the 1M gen data set has at most 32.
	listMax = 64
)

// list returns the rows of term id when they are a list.
func (p *postings) list(id uint32) ([]uint32, bool) { return p.listOf(p.spans[id]) }

// listOf returns the rows of the term whose span is s when they are a
// list.
func (p *postings) listOf(s Span) ([]uint32, bool) {
	if s.Lo < listed {
		return nil, false
	}
	return p.lists[s.Lo-listed : s.Hi], true
}

// bitmap returns the rows of term id, whose rows are a bitmap.
func (p *postings) bitmap(id uint32) *roaring.Bitmap { return p.bms[p.spans[id].Lo] }

// setBitmap makes b the rows of term id.
func (p *postings) setBitmap(id uint32, b *roaring.Bitmap) {
	if s := p.spans[id]; s.Hi == 0 {
		p.bms[s.Lo] = b
		return
	}
	p.spans[id] = Span{Lo: uint32(len(p.bms))}
	p.bms = append(p.bms, b)
}

// rows returns the rows of term id: a shared bitmap (read only) or a fresh
// one made from the term's span or list.
func (p *postings) rows(id uint32) *roaring.Bitmap {
	if l, ok := p.list(id); ok {
		return roaring.BitmapOf(l...)
	}
	if s := p.spans[id]; s.Hi != 0 {
		b := roaring.New()
		b.AddRange(uint64(s.Lo), uint64(s.Hi))
		return b
	}
	return p.bitmap(id)
}

// count returns the number of rows of term id.
func (p *postings) count(id uint32) uint64 {
	s := p.spans[id]
	if l, ok := p.listOf(s); ok {
		return uint64(len(l))
	}
	if s.Hi != 0 {
		return uint64(s.Len())
	}
	return p.bitmap(id).GetCardinality()
}

// flat reports whether the rows of term id are a span or a list, which
// cost a few word writes to OR in, rather than a bitmap.
func (p *postings) flat(id uint32) bool { return p.spans[id].Hi != 0 }

// union returns the rows of any of ids; possibly shared, read only.
func (p *postings) union(ids []uint32) *roaring.Bitmap {
	var bms []*roaring.Bitmap
	var spanned *roaring.Bitmap
	for _, id := range ids {
		s := p.spans[id]
		if s.Hi == 0 {
			bms = append(bms, p.bms[s.Lo])
			continue
		}
		if spanned == nil {
			spanned = roaring.New()
		}
		if l, ok := p.listOf(s); ok {
			spanned.AddMany(l)
			continue
		}
		spanned.AddRange(uint64(s.Lo), uint64(s.Hi))
	}
	if spanned != nil {
		bms = append(bms, spanned)
	}
	return union(bms)
}

// orBitmap sets the rows of b below end.
func orBitmap(words []uint64, b *roaring.Bitmap, end uint32) {
	// Iterate, not ManyIterator: a many-iterator and its buffer were two
	// allocations a term (8 MB a search for "10.0.1" at 1M).
	// Iterate promises no order, so rows past end are skipped, not a stop.
	b.Iterate(func(row uint32) bool {
		if row < end {
			words[row>>6] |= 1 << (row & 63)
		}
		return true
	})
}

// orList sets the bits of rows, ascending, below end.
func orList(words []uint64, rows []uint32, end uint32) {
	for _, row := range rows {
		if row >= end {
			return
		}
		words[row>>6] |= 1 << (row & 63)
	}
}

// orRowsOf sets the bit of every row of each of ids in words (row r is
// bit r%64 of words[r/64]); rows past the end of words are left out.
func (p *postings) orRowsOf(words []uint64, ids []uint32) { p.orSpans(words, p.spans, ids, true) }

// orSpans sets the rows of the terms whose spans are spans[ids[i]] for
// each of ids when byID, else every one of spans (a dictionary's spans in
// suffix order), with a list, or a span inside one word (a service
// instance's few rows), set in line.
func (p *postings) orSpans(words []uint64, spans []Span, ids []uint32, byID bool) {
	end := uint32(min(len(words)*64, listed))
	n := len(spans)
	if byID {
		n = len(ids)
	}
	for i := range n {
		var s Span
		if byID {
			s = spans[ids[i]]
		} else {
			s = spans[i]
		}
		if l, ok := p.listOf(s); ok {
			orList(words, l, end)
			continue
		}
		if s.Hi == 0 {
			orBitmap(words, p.bms[s.Lo], end)
			continue
		}
		lo, hi := s.Lo, min(s.Hi, end)
		if lo >= hi {
			continue
		}
		if first := lo >> 6; first == (hi-1)>>6 {
			words[first] |= ^uint64(0) << (lo & 63) & (^uint64(0) >> (63 - (hi-1)&63))
			continue
		}
		setRange(words, lo, hi)
	}
}

// setRange sets bits [lo, hi) of words.
func setRange(words []uint64, lo, hi uint32) {
	if lo >= hi {
		return
	}
	first, last := lo>>6, (hi-1)>>6
	head, tail := ^uint64(0)<<(lo&63), ^uint64(0)>>(63-(hi-1)&63)
	if first == last {
		words[first] |= head & tail
		return
	}
	words[first] |= head
	for w := first + 1; w < last; w++ {
		words[w] = ^uint64(0)
	}
	words[last] |= tail
}

func (p *postings) sizeInBytes() uint64 {
	n := uint64(len(p.spans)*8 + len(p.lists)*4)
	for _, b := range p.bms {
		n += b.GetSizeInBytes() + 40 // bitmap header and its pointer
	}
	return n
}

// buildPostings groups rows by term id. Rows are first grouped in one flat
// array, so each term's rows are an ascending list handled in one go.
func buildPostings(rowTerm []uint32, nTerms int) postings {
	start := make([]uint32, nTerms+1)
	for _, id := range rowTerm {
		start[id+1]++
	}
	for i := 1; i <= nTerms; i++ {
		start[i] += start[i-1]
	}
	flat := make([]uint32, len(rowTerm))
	next := slices.Clone(start[:nTerms])
	for row, id := range rowTerm {
		flat[next[id]] = uint32(row)
		next[id]++
	}
	p := postings{spans: make([]Span, nTerms)}
	for id := range nTerms {
		rows := flat[start[id]:start[id+1]]
		n := len(rows)
		switch {
		case n > 0 && rows[n-1]-rows[0] == uint32(n-1):
			p.spans[id] = Span{rows[0], rows[n-1] + 1}
		case n > 0 && n <= listMax && len(rowTerm) < listed:
			p.spans[id] = Span{listed + uint32(len(p.lists)), uint32(len(p.lists) + n)}
			p.lists = append(p.lists, rows...)
		default:
			b := roaring.New()
			b.AddMany(rows)
			b.RunOptimize()
			p.spans[id] = Span{Lo: uint32(len(p.bms))}
			p.bms = append(p.bms, b)
		}
	}
	p.lists = slices.Clip(p.lists)
	return p
}

// assignTerms gives each distinct value of value(row), rows [0, n), a term
// id that is its position among the distinct values sorted ascending, and
// returns each row's term id and the sorted values. Rows are visited as
// runs of equal values, which topology order makes long for the topology
// fields, so most rows cost no hash lookup.
func assignTerms[K comparable](n int, value func(row int) K, compare func(a, b K) int) ([]uint32, []K) {
	runs := 0
	for i := range n {
		if i == 0 || value(i-1) != value(i) {
			runs++
		}
	}
	ids := make(map[K]uint32, runs)
	var values []K
	rowTerm := make([]uint32, n)
	for lo := 0; lo < n; {
		v := value(lo)
		hi := lo + 1
		for hi < n && value(hi) == v {
			hi++
		}
		id, ok := ids[v]
		if !ok {
			id = uint32(len(values))
			ids[v] = id
			values = append(values, v)
		}
		for row := lo; row < hi; row++ {
			rowTerm[row] = id
		}
		lo = hi
	}
	type valueID struct {
		v  K
		id uint32
	}
	order := make([]valueID, len(values))
	for i, v := range values {
		order[i] = valueID{v, uint32(i)}
	}
	slices.SortFunc(order, func(a, b valueID) int { return compare(a.v, b.v) })
	newID := make([]uint32, len(values))
	for pos, o := range order {
		newID[o.id] = uint32(pos)
		values[pos] = o.v
	}
	for row, id := range rowTerm {
		rowTerm[row] = newID[id]
	}
	return rowTerm, values
}

// assignIntTerms is assignTerms for integers, without hashing: the runs
// of equal values are radix-sorted by value and numbered in that order.
func assignIntTerms(n int, value func(row int) int64) ([]uint32, []int64) {
	var runs []intPair // value and run number
	var starts []uint32
	for lo := 0; lo < n; {
		v := value(lo)
		hi := lo + 1
		for hi < n && value(hi) == v {
			hi++
		}
		runs = append(runs, intPair{v, uint32(len(starts))})
		starts = append(starts, uint32(lo))
		lo = hi
	}
	starts = append(starts, uint32(n))
	runs = radixSort(runs)
	rowTerm := make([]uint32, n)
	var values []int64
	for i, r := range runs {
		if i == 0 || r.v != runs[i-1].v {
			values = append(values, r.v)
		}
		id := uint32(len(values) - 1)
		for row := starts[r.row]; row < starts[r.row+1]; row++ {
			rowTerm[row] = id
		}
	}
	return rowTerm, values
}

// IntTerms is an inverted index of an integer field: the distinct values
// ascending and the rows of each.
type IntTerms struct {
	values []int64
	postings
}

// buildIntTerms indexes value(row) for rows [0, n) and also returns each
// row's term id, which is the rank of its value.
func buildIntTerms(n int, value func(row int) int64) (*IntTerms, []uint32) {
	rowTerm, values := assignIntTerms(n, value)
	return &IntTerms{values: values, postings: buildPostings(rowTerm, len(values))}, rowTerm
}

// lookup returns the term id of v.
func (t *IntTerms) lookup(v int64) (uint32, bool) {
	i, ok := slices.BinarySearch(t.values, v)
	return uint32(i), ok
}

// Get returns the rows holding v, or nil; possibly shared, read only.
func (t *IntTerms) Get(v int64) *roaring.Bitmap {
	if id, ok := t.lookup(v); ok {
		return t.rows(id)
	}
	return nil
}

// Len returns the number of distinct values.
func (t *IntTerms) Len() int { return len(t.values) }

// Values returns the distinct values, ascending; some may have no rows
// left after status updates. Shared, read only.
func (t *IntTerms) Values() []int64 { return t.values }

// Union returns the rows holding any of vs; possibly shared, read only.
func (t *IntTerms) Union(vs []int64) *roaring.Bitmap {
	ids := make([]uint32, 0, len(vs))
	for _, v := range vs {
		if id, ok := t.lookup(v); ok {
			ids = append(ids, id)
		}
	}
	return t.union(ids)
}

func (t *IntTerms) sizeInBytes() uint64 {
	return uint64(len(t.values)*8) + t.postings.sizeInBytes()
}

// StrTerms is an inverted index of a string field: a sorted dictionary of
// the distinct values (term ids are positions in it), the rows of each term,
// the term of each row, and, for suffix lookups, the term ids ordered by
// their values read backwards.
type StrTerms struct {
	terms   []string
	rowTerm []uint32
	// alphabet holds every byte that occurs in some term.
	alphabet [256]bool
	// grams narrows substring tests to candidate terms: Candidates.
	grams *trigrams
	postings
	suffixes   bool
	suffixOnce sync.Once
	bySuffix   []uint32
	// sufSpans holds the spans of the terms in suffix order (sufSpans[i]
	// is spans[bySuffix[i]]), so that a union of the terms with a suffix
	// reads them in sequence: for "*_gse_agent" at 1M, reading 34k spans
	// scattered over 4.8 MB was most of the union.
	sufSpans []Span
	// short holds the terms of each byte and pair of bytes, for a
	// dictionary of few distinct bytes; nil otherwise.
	short *shortGrams
}

func buildStrTerms(n int, value func(row int) string, suffixes bool) *StrTerms {
	// strings.Compare compares once; cmp.Compare on strings compares twice.
	rowTerm, terms := assignTerms(n, value, strings.Compare)
	packTerms(terms)
	t := &StrTerms{terms: terms, rowTerm: rowTerm, postings: buildPostings(rowTerm, len(terms)), suffixes: suffixes}
	for _, term := range terms {
		for i := range len(term) {
			t.alphabet[term[i]] = true
		}
	}
	t.grams = buildTrigrams(terms)
	if t.short = newShortGrams(&t.alphabet, len(terms)); t.short != nil {
		t.short.fill(terms)
	}
	return t
}

// Containing returns the ids, ascending, of terms that may contain frag,
// and whether they are exactly those that do: a fragment of one or two
// bytes in a dictionary that keeps their terms (short grams: the
// addresses) and one of three bytes (its trigram's terms) need no test;
// a longer one gets the terms holding all its trigrams when the short
// grams keep a bitset of each, else its rarest trigram's terms: a
// superset either way. false when the dictionary cannot narrow frag at
// all (a short fragment without short grams): every term may then hold
// it.
func (t *StrTerms) Containing(frag string) (ids []uint32, exact, ok bool) {
	if t.short != nil {
		if set, ok := t.short.terms(frag); ok {
			return AppendSetBits(nil, set), true, true
		}
		if set, ok := t.short.allTrigrams(frag); ok {
			return AppendSetBits(nil, set), false, true
		}
	}
	ids, ok = t.Candidates(frag)
	return ids, ok && len(frag) == 3, ok
}

// ContainingBits returns the terms that contain frag as a bitset over
// term ids (bit id%64 of word id/64; nil when none does), when the
// dictionary keeps one: a fragment of one or two bytes, or a trigram
// held by many terms, in a dictionary with short grams (the addresses).
// false when it keeps none for frag. Shared: read only.
func (t *StrTerms) ContainingBits(frag string) ([]uint64, bool) {
	if t.short == nil {
		return nil, false
	}
	return t.short.terms(frag)
}

// AppendSetBits appends to ids the positions of the bits set in words
// (bit i%64 of word i/64), ascending.
func AppendSetBits(ids []uint32, words []uint64) []uint32 {
	for w, word := range words {
		for ; word != 0; word &= word - 1 {
			ids = append(ids, uint32(w<<6+mbits.TrailingZeros64(word)))
		}
	}
	return ids
}

// packTerms copies the terms, in order, into one block of memory, so that
// scanning the dictionary (searches, expressions) reads it sequentially
// instead of chasing strings allocated all over the heap.
func packTerms(terms []string) {
	size := 0
	for _, t := range terms {
		size += len(t)
	}
	buf := make([]byte, 0, size)
	for _, t := range terms {
		buf = append(buf, t...)
	}
	all := string(buf)
	off := 0
	for i, t := range terms {
		terms[i] = all[off : off+len(t)]
		off += len(t)
	}
}

// Len returns the number of distinct values.
func (t *StrTerms) Len() int { return len(t.terms) }

// MayContain reports whether some term could contain sub: false when sub
// has a byte that no term has.
func (t *StrTerms) MayContain(sub string) bool {
	for i := range len(sub) {
		if !t.alphabet[sub[i]] {
			return false
		}
	}
	return true
}

// Term returns the value of term id.
func (t *StrTerms) Term(id uint32) string { return t.terms[id] }

// Rows returns the rows of term id; possibly shared, read only.
func (t *StrTerms) Rows(id uint32) *roaring.Bitmap { return t.rows(id) }

// Flat reports whether the rows of term id are one range of rows or a
// short list (cheap to OR in) rather than a bitmap.
func (t *StrTerms) Flat(id uint32) bool { return t.flat(id) }

// Listed reports whether the rows of term id are a short list of
// scattered rows.
func (t *StrTerms) Listed(id uint32) bool { _, ok := t.list(id); return ok }

// OrRowsOf sets the bit of every row of each of ids in words (row r is
// bit r%64 of words[r/64]), leaving out rows past the end of words: a
// union of many terms, each one contiguous run of rows or a short list,
// costs a few word writes a term instead of a bitmap a term.
func (t *StrTerms) OrRowsOf(words []uint64, ids []uint32) { t.orRowsOf(words, ids) }

// Count returns the number of rows of term id.
func (t *StrTerms) Count(id uint32) uint64 { return t.count(id) }

// RowTerms returns the term id of every row, indexed by row. Shared: read
// only.
func (t *StrTerms) RowTerms() []uint32 { return t.rowTerm }

// RowTerm returns the term id of row.
func (t *StrTerms) RowTerm(row uint32) uint32 { return t.rowTerm[row] }

// Lookup returns the term id of v.
func (t *StrTerms) Lookup(v string) (uint32, bool) {
	i, ok := slices.BinarySearch(t.terms, v)
	return uint32(i), ok
}

// Get returns the rows holding v, or nil; possibly shared, read only.
func (t *StrTerms) Get(v string) *roaring.Bitmap {
	if id, ok := t.Lookup(v); ok {
		return t.rows(id)
	}
	return nil
}

// Union returns the rows holding any of vs; possibly shared, read only.
func (t *StrTerms) Union(vs []string) *roaring.Bitmap {
	ids := make([]uint32, 0, len(vs))
	for _, v := range vs {
		if id, ok := t.Lookup(v); ok {
			ids = append(ids, id)
		}
	}
	return t.union(ids)
}

// PrefixRange returns the term ids [lo, hi) whose values start with p.
func (t *StrTerms) PrefixRange(p string) (lo, hi uint32) {
	l := sort.SearchStrings(t.terms, p)
	h := l + sort.Search(len(t.terms)-l, func(i int) bool {
		return !strings.HasPrefix(t.terms[l+i], p)
	})
	return uint32(l), uint32(h)
}

// SuffixTerms returns the ids of the terms whose values end with s, in no
// particular order. The slice is shared: read only.
func (t *StrTerms) SuffixTerms(s string) []uint32 {
	return t.SuffixIDs(t.SuffixRange(s))
}

// SuffixIDs returns the term ids at positions [lo, hi) of the suffix
// order. Shared: read only.
func (t *StrTerms) SuffixIDs(lo, hi int) []uint32 { return t.suffixOrder()[lo:hi] }

// SuffixRange returns where the terms ending with s are in suffix order:
// SuffixTerms(s) is the ids at positions [lo, hi) of that order.
func (t *StrTerms) SuffixRange(s string) (lo, hi int) {
	ids := t.suffixOrder()
	lo = sort.Search(len(ids), func(i int) bool { return compareReversed(t.terms[ids[i]], s) >= 0 })
	hi = lo + sort.Search(len(ids)-lo, func(i int) bool { return !strings.HasSuffix(t.terms[ids[lo+i]], s) })
	return lo, hi
}

// OrSuffixRows is OrRowsOf for the terms at positions [lo, hi) of the
// suffix order (SuffixRange), read in that order.
func (t *StrTerms) OrSuffixRows(words []uint64, lo, hi int) {
	t.suffixOrder() // sorts the suffix order, and sufSpans with it, once
	t.orSpans(words, t.sufSpans[lo:hi], nil, false)
}

// setSuffixOrder makes ids, ids in reversed-value order, the suffix order.
func (t *StrTerms) setSuffixOrder(ids []uint32) {
	t.bySuffix = ids
	if ids == nil {
		return
	}
	t.sufSpans = make([]Span, len(ids))
	for i, id := range ids {
		t.sufSpans[i] = t.spans[id]
	}
}

// suffixOrder returns the term ids in reversed-value order, computed once
// on first use (Build starts it in the background).
func (t *StrTerms) suffixOrder() []uint32 {
	t.suffixOnce.Do(func() {
		if t.suffixes {
			t.setSuffixOrder(suffixOrder(t.terms))
		}
	})
	return t.bySuffix
}

// compareReversed compares a and b as if both were written backwards,
// byte by byte.
func compareReversed(a, b string) int {
	i, j := len(a)-1, len(b)-1
	for ; i >= 0 && j >= 0; i, j = i-1, j-1 {
		if a[i] != b[j] {
			return cmp.Compare(a[i], b[j])
		}
	}
	return cmp.Compare(i, j)
}

func (t *StrTerms) sizeInBytes() uint64 {
	n := uint64(len(t.rowTerm)*4+len(t.suffixOrder())*4+len(t.sufSpans)*8) + t.postings.sizeInBytes() + t.grams.sizeInBytes()
	for _, term := range t.terms {
		n += uint64(len(term) + 16)
	}
	if t.short != nil {
		n += t.short.sizeInBytes()
	}
	return n
}

// suffixOrder returns the ids of terms ordered by their values read
// backwards. The reversed values are built in one temporary buffer so the
// sort compares contiguous strings.
func suffixOrder(terms []string) []uint32 {
	size := 0
	for _, t := range terms {
		size += len(t)
	}
	buf := make([]byte, 0, size)
	for _, t := range terms {
		for i := len(t) - 1; i >= 0; i-- {
			buf = append(buf, t[i])
		}
	}
	all := string(buf)
	type revID struct {
		s  string
		id uint32
	}
	rev := make([]revID, len(terms))
	off := 0
	for i, t := range terms {
		rev[i] = revID{all[off : off+len(t)], uint32(i)}
		off += len(t)
	}
	slices.SortFunc(rev, func(a, b revID) int { return strings.Compare(a.s, b.s) })
	ids := make([]uint32, len(rev))
	for i, r := range rev {
		ids[i] = r.id
	}
	return ids
}

// Union ORs bms; with one input it returns that input itself, so the
// result may be shared: read only.
//
// Roaring's own OR of large bitmaps made of many short runs rebuilds array
// containers run by run; setting the bits in a dense word array and
// converting that once is far cheaper (BenchmarkUnion at 1M, three
// process names: 0.53 ms against 9.0 ms for FastOr). Small unions keep
// roaring's OR.
func Union(bms ...*roaring.Bitmap) *roaring.Bitmap {
	switch len(bms) {
	case 0:
		return roaring.New()
	case 1:
		return bms[0]
	}
	var total uint64
	var top uint32
	for _, b := range bms {
		if !b.IsEmpty() {
			total += b.GetCardinality()
			top = max(top, b.Maximum())
		}
	}
	if total < 4096 {
		return roaring.FastOr(bms...)
	}
	dp := unionWords.Get().(*[]uint64)
	dense := resizeWords(*dp, int(top)/64+1)
	var buf [1024]uint32
	var scratch *[]uint64
	written := false
	for _, b := range bms {
		if b.GetCardinality() > 2*uint64(len(dense)) {
			// More rows than two passes over the words cost: the bitmap
			// writes its containers whole (a bitmap container is one
			// copy), into dense itself when nothing is there yet, else
			// into a scratch array ORed in. Two cloud names holding
			// 420k rows at 1M: 0.8 ms a row at a time.
			if !written {
				b.WriteDenseTo(dense)
				written = true
				continue
			}
			if scratch == nil {
				scratch = unionWords.Get().(*[]uint64)
			}
			*scratch = resizeWords(*scratch, len(dense))
			b.WriteDenseTo(*scratch)
			for i, w := range *scratch {
				dense[i] |= w
			}
			continue
		}
		written = true
		it := b.ManyIterator()
		for n := it.NextMany(buf[:]); n > 0; n = it.NextMany(buf[:]) {
			for _, x := range buf[:n] {
				dense[x>>6] |= 1 << (x & 63)
			}
		}
	}
	if scratch != nil {
		unionWords.Put(scratch)
	}
	out := roaring.FromDense(dense, true) // copies: dense goes back to the pool
	out.RunOptimize()
	*dp = dense
	unionWords.Put(dp)
	return out
}

// resizeWords returns words, or a new array when it is too small, as n
// zero words.
func resizeWords(words []uint64, n int) []uint64 {
	if cap(words) < n {
		return make([]uint64, n)
	}
	words = words[:n]
	clear(words)
	return words
}

// unionWords holds Union's dense word arrays (125 KiB at 1M rows), reused:
// a fresh one a query is a fresh page fault every 4 KiB.
var unionWords = sync.Pool{New: func() any { return new([]uint64) }}

func union(bms []*roaring.Bitmap) *roaring.Bitmap { return Union(bms...) }

// Candidates returns, ascending, the ids of terms that may contain every
// one of pieces: a superset of those that do, narrowed by a trigram index
// (each term holding a piece holds all its trigrams). ok is false, and
// ids nil, when no piece has three bytes: the index cannot narrow, and
// every term is a candidate. The count of candidates comes first, so a
// caller may choose another plan before paying for the ids:
// CandidateCount.
func (t *StrTerms) Candidates(pieces ...string) (ids []uint32, ok bool) {
	l, ok := t.grams.rarest(pieces)
	if !ok || l < 0 {
		return nil, ok
	}
	return t.grams.ids(make([]uint32, 0, t.grams.count[l]), l), true
}

// CandidateCount returns how many ids Candidates returns, and whether it
// narrows at all.
func (t *StrTerms) CandidateCount(pieces ...string) (n int, ok bool) {
	l, ok := t.grams.rarest(pieces)
	if !ok || l < 0 {
		return 0, ok
	}
	return int(t.grams.count[l]), true
}
