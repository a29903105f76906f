package engine

import (
	"math/bits"
	"slices"
	"strings"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/procq/procq/index"
)

// fewTerms is how many matching terms may be ORed by roaring, container
// by container, whatever their rows.
const fewTerms = 32

// termCost is what rowsWithin counts for each term it ORs into a dense
// array (unionWithin), in candidate rows tested by the mask (about a
// nanosecond each): looking the term's rows up where its id says, which
// for ids in no order (a suffix's terms) is a cache miss, then writing
// its words. sortedTermCost is the same for ascending ids, which read the
// rows of the terms in sequence. Measured at 1M (engine's BenchmarkQuery,
// union against mask; BenchmarkRowsWithin has the same side by side):
// 34k terms of a suffix in no order cost about 20 ns each, 19k ascending
// terms of a pattern about 3 ns each.
const (
	termCost       = 32
	sortedTermCost = 4
)

// bitmapTermCost is what a term whose rows are a bitmap, not a span,
// costs unionWithin beyond that: walking the bitmap (a host's address
// holds a few scattered rows). Measured at 1M: a search for "17"
// matched 30k addresses, whose union took 3 ms, 100 ns a term, where the
// mask over the 648k candidates takes 0.6 ms.
const bitmapTermCost = 96

// listedRowCost is what a row of a listed term (an address's few
// scattered rows) costs unionWithin beyond the row counted: a bit set in
// a word anywhere in the dense array, not the next one. At 1M the search
// "5" on env 3 (30k addresses, 340k rows) takes the union when this is 0
// and the mask when it is 1: p50 924-960 against 442-446 us, two
// processes each, alternated (go run ./bench/loadtime -rss=false
// -pretouch -each -n 300 -requests ONE.jsonl v3.snap).
const listedRowCost = 1

// smallUnionRows is the number of rows below which rowsWithin ORs the
// terms' bitmaps with roaring (index.Union) rather than in dense arrays,
// whose fixed cost (two arrays of a bit per row up to the candidates'
// last) is then the larger; so it does for up to fewTerms terms, whose
// bitmaps index.Union iterates a little faster than OrRows (1.1 against
// 1.8 ms for the two "area" cloud names at 1M, BenchmarkRowsWithin).
// roaringTermCost is termCost for that way: a bitmap made for a span
// term, and looked up.
const (
	smallUnionRows  = 4096
	roaringTermCost = 64
)

// allSorted reports whether the ids of every set ascend.
func allSorted(sets []*termSet) bool {
	for _, s := range sets {
		if s.bits == nil && !s.suffix && !slices.IsSorted(s.ids) {
			return false
		}
	}
	return true
}

// termSet is the set of matching term ids of one dictionary: a list, or
// a bitset (one the dictionary keeps, StrTerms.ContainingBits, or ascend's),
// whose list is made only when a way needs it.
type termSet struct {
	dict    *index.StrTerms
	ids     []uint32
	bits    []uint64 // read only (may be the dictionary's); nil: ids says
	nbits   int      // the terms in bits
	mask    []uint64 // built on demand
	rowTerm []uint32 // the dictionary's row → term column, with the mask
	// suffix says ids are the positions [sufLo, sufHi) of the
	// dictionary's suffix order (a pattern "*" then a literal): a union
	// reads their rows in that order (StrTerms.OrSuffixRows), so the ids
	// need not be put in order.
	suffix       bool
	sufLo, sufHi int
}

// setSuffix makes s the terms at positions [lo, hi) of the suffix order
// of its dictionary.
func (s *termSet) setSuffix(lo, hi int) {
	s.ids, s.suffix, s.sufLo, s.sufHi = s.dict.SuffixIDs(lo, hi), true, lo, hi
}

// orRows sets in words the rows of the terms at positions [i, j) of the
// list of s (built), read in the order of the suffix order for a suffix
// set.
func (s *termSet) orRows(words []uint64, i, j int) {
	if s.suffix {
		s.dict.OrSuffixRows(words, s.sufLo+i, s.sufLo+j)
		return
	}
	s.dict.OrRowsOf(words, s.ids[i:j])
}

// setBits makes s the terms of the bitset set, which it only reads.
func (s *termSet) setBits(set []uint64) {
	s.bits, s.nbits, s.ids, s.suffix = set, 0, nil, false
	for _, w := range set {
		s.nbits += bits.OnesCount64(w)
	}
}

// ascendFrom is how many ids in no order (a suffix's terms) a set must
// have to be put in order, through a bitset over the dictionary: then a
// union reads the terms' rows in sequence (sortedTermCost, not
// termCost), for a bit set per id and a pass over the bitset.
const ascendFrom = 1024

// ascend makes the ids of s a bitset when they are many and in no order
// (they may be shared, so they are not sorted in place): the union then
// lists them ascending, and the mask is that bitset as it is.
func (s *termSet) ascend() {
	if s.bits != nil || s.suffix || len(s.ids) < ascendFrom || slices.IsSorted(s.ids) {
		return
	}
	s.setBits(idBits(s.dict.Len(), s.ids))
}

// size returns the number of terms of s.
func (s *termSet) size() int {
	if s.bits != nil {
		return s.nbits
	}
	return len(s.ids)
}

// list returns the ids of s, ascending when they come from bits.
func (s *termSet) list() []uint32 {
	if s.bits != nil && s.ids == nil && s.nbits > 0 {
		s.ids = index.AppendSetBits(make([]uint32, 0, s.nbits), s.bits)
	}
	return s.ids
}

func (s *termSet) buildMask() {
	s.rowTerm = s.dict.RowTerms()
	if s.bits != nil {
		s.mask = s.bits // read only, as maskWord does
		return
	}
	s.mask = idBits(s.dict.Len(), s.ids)
}

// idBits returns the bitset over the ids of a dictionary of n terms (bit
// id%64 of word id/64) of the ids of lists.
func idBits(n int, lists ...[]uint32) []uint64 {
	words := make([]uint64, (n+63)/64)
	for _, l := range lists {
		for _, id := range l {
			words[id>>6] |= 1 << (id & 63)
		}
	}
	return words
}

// rowsWithin returns the rows of cand whose term in any of sets matches.
//
// It takes the cheapest of five ways, by a cost counted in candidate rows:
//   - index.Union of the terms' bitmaps, when they are few (fewTerms) or
//     hold fewer than smallUnionRows rows, and those rows and a
//     roaringTermCost per term are fewer than the candidates: an IP
//     fragment matching a few hundred addresses of a few rows each;
//   - unionWithin, the terms' rows set in a dense array, when those rows
//     and a termCost (or sortedTermCost) per term are fewer than the
//     candidates: a pattern matching thousands of service instances;
//   - roaring's own OR, a container at a time (a cost per byte): for a
//     few dense terms, "default area" holding most of the rows;
//   - each of those few terms ANDed with the candidates (andEach), when
//     the candidates' bitmap is small for their count: the cloud names
//     of "area" over the 55k rows an earlier search kept;
//   - otherwise a mask of the matching term ids, tested once per
//     candidate row (about a nanosecond a row: maskRows).
//
// At 1M, searches ["area"] (two terms, 730k rows, 130 KiB of bitmaps)
// against 648k candidates went from 3.7 ms through the mask to 0.1 ms.
func rowsWithin(dl *deadline, cand *roaring.Bitmap, sets ...*termSet) *roaring.Bitmap {
	total := 0
	nonEmpty := sets[:0:0]
	for _, s := range sets {
		total += s.size()
		if s.size() > 0 {
			nonEmpty = append(nonEmpty, s)
		}
	}
	if total == 0 {
		return roaring.New()
	}
	sets = nonEmpty // a set without terms would cost a mask test a row
	n := cand.GetCardinality()
	for _, s := range sets {
		s.ascend()
	}
	sorted := allSorted(sets)
	// No union pays once its cost per term alone passes the candidates:
	// then the terms' rows are not counted (34k lookups for *_gse_agent
	// at 1M, a fifth of that query's time). Otherwise they are estimated
	// from a sample (exact up to sampleTerms terms a set): the choice
	// only weighs costs, and counting 50k addresses' rows was 1.4 ms of
	// a search for "10.".
	cost := uint64(termCost)
	if sorted {
		cost = sortedTermCost
	}
	rows, unionCost := n+1, cost*uint64(total)
	if unionCost <= n {
		var extra uint64
		rows, extra = sampledRows(sets)
		unionCost += extra
	}
	switch {
	case (total <= fewTerms || rows < smallUnionRows) && rows+roaringTermCost*uint64(total) <= n:
		return roaring.And(index.Union(termBitmaps(sets)...), cand)
	case rows+unionCost <= n:
		return unionWithin(dl, cand, sets)
	}
	if total <= fewTerms {
		bms := termBitmaps(sets)
		var size uint64
		for _, b := range bms {
			size += b.GetSizeInBytes()
		}
		if size <= n {
			return roaring.And(roaring.FastOr(bms...), cand)
		}
		if uint64(len(bms))*cand.GetSizeInBytes()/andBytesPerRow <= n {
			return andEach(cand, bms)
		}
	}
	for _, s := range sets {
		s.buildMask()
	}
	return maskRows(dl, cand, sets)
}

// andBytesPerRow is how many bytes of the candidates' bitmap ANDing a
// term's bitmap with it reads for the cost of a row of the mask (it goes
// a container at a time). 8 is not measured per byte: it is where the
// two cloud names of "area" over the 55k rows "10.1.1" left (105 KiB of
// containers) take andEach, which made that request 0.72-0.74 -> 0.53-0.56
// ms p50: go run ./bench/loadtime -rss=false -pretouch -each -n 150
// -requests search.jsonl v3.snap, three processes per build
// (BENCHMARKS.md, round 6).
const andBytesPerRow = 8

// andEach returns the rows of cand in any of bms, ANDing each with cand
// before the union: few big terms (a cloud name's 700k rows) against
// candidates a bitmap of which is small (an earlier search's 55k rows).
func andEach(cand *roaring.Bitmap, bms []*roaring.Bitmap) *roaring.Bitmap {
	ands := make([]*roaring.Bitmap, len(bms))
	for i, b := range bms {
		ands[i] = roaring.And(cand, b)
	}
	return roaring.FastOr(ands...)
}

// maskWordsEvery is how many 64-row words maskRows tests between two looks
// at the deadline: 256 Ki rows, a few hundred microseconds.
const maskWordsEvery = 4096

// maskRows returns the rows of cand whose term is in the mask of any of
// sets (built). It walks cand as 64-row words of a dense array, rewritten
// in place: a full word is 64 consecutive rows, whose terms are read in
// sequence and whose bits are built in a register; a sparse word visits
// its set bits. No iterator, no read-modify-write per row. It stops, with
// a partial result, once dl expires. At 1M, bench's BenchmarkDo (200x,
// 3 runs, median) went from 1.49 to 0.86 ms for expr_suffix (648k
// candidates) and 2.10 to 1.14 ms for expr_ten_groups against
// filterBatches' row iterator.
func maskRows(dl *deadline, cand *roaring.Bitmap, sets []*termSet) *roaring.Bitmap {
	if cand.IsEmpty() {
		return roaring.New()
	}
	rows := newRowSet(cand)
	defer rows.release()
	words := rows.words
	cand.WriteDenseTo(words)
	for i, w := range words {
		if i%maskWordsEvery == 0 && dl.expired() {
			clear(words[i:])
			break
		}
		if w == 0 {
			continue
		}
		base := uint32(i) << 6
		var out uint64
		for _, s := range sets {
			out |= s.maskWord(base, w&^out)
			if out == w {
				break
			}
		}
		words[i] = out
	}
	return rows.bitmap()
}

// maskWord returns the bits of w (rows base to base+63) whose row's term
// is in the mask.
func (s *termSet) maskWord(base uint32, w uint64) uint64 {
	mask := s.mask
	if bits.OnesCount64(w) >= denseWordRows && int(base)+64 <= len(s.rowTerm) {
		// Four rows a step into four accumulators: independent loads,
		// and a loop that no longer runs at the mercy of where the
		// linker puts it (one row a step swung 0.60-0.82 ms a query
		// between two builds that did not touch it).
		rt := s.rowTerm[base : base+64 : base+64]
		var o0, o1, o2, o3 uint64
		for j := 0; j < 64; j += 4 {
			r := rt[j : j+4 : j+4]
			o0 |= (mask[r[0]>>6] >> (r[0] & 63) & 1) << j
			o1 |= (mask[r[1]>>6] >> (r[1] & 63) & 1) << (j + 1)
			o2 |= (mask[r[2]>>6] >> (r[2] & 63) & 1) << (j + 2)
			o3 |= (mask[r[3]>>6] >> (r[3] & 63) & 1) << (j + 3)
		}
		return (o0 | o1 | o2 | o3) & w
	}
	var out uint64
	for v := w; v != 0; v &= v - 1 {
		j := uint32(bits.TrailingZeros64(v))
		id := s.rowTerm[base+j]
		out |= (mask[id>>6] >> (id & 63) & 1) << j
	}
	return out
}

// denseWordRows is the number of candidate rows of a word from which
// maskWord tests all 64 rows without branches rather than visiting the
// candidates one by one.
const denseWordRows = 24

// unionWithin returns the rows of cand holding a term of sets: the rows
// of every term are set in a dense word array (a span term is a few word
// writes: StrTerms.OrRowsOf), which is then ANDed with cand's words. It
// stops, with a partial result, once dl expires.
func unionWithin(dl *deadline, cand *roaring.Bitmap, sets []*termSet) *roaring.Bitmap {
	if cand.IsEmpty() {
		return roaring.New()
	}
	union := newRowSet(cand)
	defer union.release()
	for _, s := range sets {
		n := len(s.list())
		for i := 0; i < n; i += checkEvery {
			if dl.expired() {
				return roaring.New()
			}
			s.orRows(union.words, i, min(i+checkEvery, n))
		}
	}
	rows := newRowSet(cand)
	defer rows.release()
	cand.WriteDenseTo(rows.words)
	for i, w := range union.words {
		rows.words[i] &= w
	}
	return rows.bitmap()
}

// sampledRows estimates the rows of the terms of sets, and what ORing
// them costs beyond a row each (scatterCost), from every k-th term, at
// most sampleTerms of them a set (so both are exact for fewer terms).
func sampledRows(sets []*termSet) (rows, extra uint64) {
	for _, s := range sets {
		if s.bits != nil {
			r, x := s.sampledBits()
			rows, extra = rows+r, extra+x
			continue
		}
		ids := s.ids
		k := max(1, len(ids)/sampleTerms)
		var sum, more uint64
		for i := 0; i < len(ids); i += k {
			c := s.dict.Count(ids[i])
			sum, more = sum+c, more+scatterCost(s.dict, ids[i], c)
		}
		rows, extra = rows+sum*uint64(k), extra+more*uint64(k)
	}
	return rows, extra
}

// scatterCost is what ORing the c rows of term id of dict into a dense
// array costs unionWithin beyond a row each: a bitmap's walk
// (bitmapTermCost), or a list's bit set a row in a word anywhere in the
// array (listedRowCost a row); a span writes its words in sequence.
func scatterCost(dict *index.StrTerms, id uint32, c uint64) uint64 {
	switch {
	case dict.Listed(id):
		return listedRowCost * c
	case !dict.Flat(id):
		return bitmapTermCost
	}
	return 0
}

// sampledBits is sampledRows for a set of bits: the terms of every k-th
// word, about sampleTerms of them, scaled to the set's size, without
// listing its ids.
func (s *termSet) sampledBits() (rows, extra uint64) {
	k := max(1, s.nbits/sampleTerms) // words a step: ~sampleTerms terms
	var sum, more, seen uint64
	for w := 0; w < len(s.bits); w += k {
		for word := s.bits[w]; word != 0; word &= word - 1 {
			id := uint32(w<<6 + bits.TrailingZeros64(word))
			c := s.dict.Count(id)
			sum, more = sum+c, more+scatterCost(s.dict, id, c)
			seen++
		}
	}
	if seen == 0 {
		return 0, 0
	}
	n := uint64(s.nbits)
	return sum * n / seen, more * n / seen
}

// sampleTerms is how many terms of a set sampledRows counts.
const sampleTerms = 512

// termBitmaps returns the rows of every term of sets.
func termBitmaps(sets []*termSet) []*roaring.Bitmap {
	var bms []*roaring.Bitmap
	for _, s := range sets {
		for _, id := range s.list() {
			bms = append(bms, s.dict.Rows(id))
		}
	}
	return bms
}

// memo remembers which terms of a dictionary contain a search term.
type memo struct {
	dict            *index.StrTerms
	rowTerm         []uint32
	tested, matched []uint64
}

func newMemo(dict *index.StrTerms) *memo {
	words := (dict.Len() + 63) / 64
	return &memo{dict: dict, rowTerm: dict.RowTerms(), tested: make([]uint64, words), matched: make([]uint64, words)}
}

// contains reports whether row's term contains sub, testing each term once.
func (m *memo) contains(row uint32, sub string) bool {
	id := m.rowTerm[row]
	w, bit := id>>6, uint64(1)<<(id&63)
	if m.tested[w]&bit == 0 {
		m.tested[w] |= bit
		if strings.Contains(m.dict.Term(id), sub) {
			m.matched[w] |= bit
		}
	}
	return m.matched[w]&bit != 0
}

// rowSet collects rows as bits of a dense word array taken from a pool:
// filtering a million candidate rows then allocates no per-row memory,
// which on a heap of a million records would mostly be paid for in
// garbage collection.
type rowSet struct{ words []uint64 }

var densePool sync.Pool // of *[]uint64, all zero

// newRowSet returns an empty set able to hold every row of cand.
func newRowSet(cand *roaring.Bitmap) *rowSet {
	n := 1
	if !cand.IsEmpty() {
		n = int(cand.Maximum())/64 + 1
	}
	if p, ok := densePool.Get().(*[]uint64); ok {
		if cap(*p) >= n {
			return &rowSet{words: (*p)[:n]}
		}
		densePool.Put(p)
	}
	return &rowSet{words: make([]uint64, n)}
}

// bitmap returns the rows as a bitmap of its own.
func (s *rowSet) bitmap() *roaring.Bitmap { return roaring.FromDense(s.words, true) }

// release zeroes the words and returns them to the pool.
func (s *rowSet) release() {
	words := s.words[:cap(s.words)]
	clear(words)
	s.words = nil
	densePool.Put(&words)
}

// filterRows returns the rows of cand for which keep is true.
func filterRows(dl *deadline, cand *roaring.Bitmap, keep func(row uint32) bool) *roaring.Bitmap {
	return filterBatches(dl, cand, func(batch []uint32, words []uint64) {
		for _, row := range batch {
			if keep(row) {
				words[row>>6] |= 1 << (row & 63)
			}
		}
	})
}

// filterBatches returns the rows of cand that keep sets as bits of words
// (indexed by row); keep gets the candidates a batch at a time, so its
// per-row loop can be free of calls. It stops, with a partial result,
// once dl expires (checked before every batch).
func filterBatches(dl *deadline, cand *roaring.Bitmap, keep func(batch []uint32, words []uint64)) *roaring.Bitmap {
	rows := newRowSet(cand)
	defer rows.release()
	buf := make([]uint32, filterBatch)
	it := cand.ManyIterator()
	for n := it.NextMany(buf); n > 0 && !dl.expired(); n = it.NextMany(buf) {
		keep(buf[:n], rows.words)
	}
	return rows.bitmap()
}

// filterBatch is how many candidate rows filterBatches hands keep at once.
const filterBatch = 1024

// termKey names the terms one pattern matches in one dictionary.
type termKey struct {
	dict    *index.StrTerms
	pattern string
}

// termCacheBytes bounds the bytes a termCache holds, keys included.
const termCacheBytes = 32 << 20

// termEntryOverhead is what an entry costs beyond its pattern text and its
// ids: the map slot, the key and slice headers, the place in the order.
const termEntryOverhead = 96

// termCache remembers which terms of a dictionary a pattern matched, for
// patterns whose test over a big dictionary costs tens of milliseconds: a
// client paging through an expression's result asks the same question on
// every page. Dictionaries never change, so entries never go stale; the
// oldest go first when the bound (termCacheBytes, counting each entry's
// pattern text, its ids and termEntryOverhead, so an entry that matched
// nothing still costs its key) is reached. Safe for concurrent use.
type termCache struct {
	mu        sync.Mutex
	limit     int
	m         map[termKey][]uint32
	order     []termKey
	bytes     int
	evictions uint64
}

func newTermCache() *termCache { return newTermCacheLimit(termCacheBytes) }

// newTermCacheLimit returns a cache holding at most limit bytes.
func newTermCacheLimit(limit int) *termCache {
	return &termCache{limit: limit, m: make(map[termKey][]uint32)}
}

// entryBytes is what an entry for k with ids costs.
func entryBytes(k termKey, ids []uint32) int {
	return termEntryOverhead + len(k.pattern) + 4*len(ids)
}

// get returns the cached ids of k; they are shared: read only.
func (c *termCache) get(k termKey) ([]uint32, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids, ok := c.m[k]
	return ids, ok
}

// put remembers ids for k, evicting the oldest entries to stay in bounds.
// An entry of more than a quarter of the bound is not kept.
func (c *termCache) put(k termKey, ids []uint32) {
	size := entryBytes(k, ids)
	if size > c.limit/4 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; ok {
		return
	}
	for c.bytes+size > c.limit && len(c.order) > 0 {
		old := c.order[0]
		c.order[0] = termKey{}
		c.order = c.order[1:]
		c.bytes -= entryBytes(old, c.m[old])
		delete(c.m, old)
		c.evictions++
	}
	c.m[k] = ids
	c.order = append(c.order, k)
	c.bytes += size
}

// stats returns the cache's size, bound, entries and evictions so far.
func (c *termCache) stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{Bytes: uint64(c.bytes), Limit: uint64(c.limit), Entries: len(c.m), Evictions: c.evictions}
}
