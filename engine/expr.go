package engine

import (
	"cmp"
	"math"
	"runtime"
	"slices"
	"strconv"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/procq/procq/api"
	"github.com/procq/procq/expr"
	"github.com/procq/procq/index"
)

// evalExpr returns the rows of the business (span, rows) that match the
// env and the compiled expressions of x; the slice is Engine.slice's.
func evalExpr(dl *deadline, x *api.ExprScope, ix *index.Index, span index.Span, bizRows *roaring.Bitmap, cache *termCache) *roaring.Bitmap {
	c := x.Compiled
	cand := bizRows
	if x.Env != "0" {
		env := ix.Env.Get(x.Env)
		if env == nil {
			return nil
		}
		cand = roaring.And(cand, env)
	}
	// Literal lists first, fewest rows first: their terms are binary
	// searches in the dictionary and their row counts are known. Patterns
	// follow, each tested on whichever is smaller, its terms or the
	// candidates left.
	type field struct {
		dict *index.StrTerms
		p    *expr.Pattern
		set  *termSet // matching terms, for literal lists
		rows uint64   // rows of those terms
	}
	var literal, pattern []field
	for _, f := range []field{
		{dict: ix.SetName, p: c.SetName}, {dict: ix.ModuleName, p: c.ModuleName},
		{dict: ix.ServiceName, p: c.ServiceInstanceName}, {dict: ix.ProcessName, p: c.ProcessName},
	} {
		if f.p.MatchesAll() {
			continue
		}
		lits, isLit := f.p.Literals()
		if !isLit {
			pattern = append(pattern, f)
			continue
		}
		f.set = &termSet{dict: f.dict}
		for _, l := range lits {
			if id, ok := f.dict.Lookup(l); ok {
				f.set.ids = append(f.set.ids, id)
				f.rows += f.dict.Count(id)
			}
		}
		literal = append(literal, f)
	}
	slices.SortFunc(literal, func(a, b field) int { return cmp.Compare(a.rows, b.rows) })
	for _, f := range append(literal, pattern...) {
		if f.set != nil {
			cand = rowsWithin(dl, cand, f.set)
		} else {
			cand = matchTerms(dl, f.dict, f.p, cand, cache)
		}
		if cand.IsEmpty() {
			return nil
		}
	}
	if c.ProcessID != nil && !c.ProcessID.MatchesAll() {
		cand = roaring.And(cand, matchProcessIDs(dl, ix, span, c.ProcessID, cand))
	}
	return cand
}

// matchTerms returns rows whose value in dict matches p, testing either the
// candidate rows or the dictionary terms, whichever are fewer. Terms are
// narrowed first to the fewest of: the pattern's literal prefix range, its
// literal suffix range, and the terms holding its literal pieces (the
// dictionary's trigram index).
func matchTerms(dl *deadline, dict *index.StrTerms, p *expr.Pattern, cand *roaring.Bitmap, cache *termCache) *roaring.Bitmap {
	lo, hi := uint32(0), uint32(dict.Len())
	var sufLo, sufHi int
	useSuffix, useGrams := false, false
	if pre := p.Prefix(); pre != "" {
		lo, hi = dict.PrefixRange(pre)
	}
	nTerms := int(hi - lo)
	if suf := p.Suffix(); suf != "" {
		if l, h := dict.SuffixRange(suf); h-l < nTerms {
			useSuffix, nTerms, sufLo, sufHi = true, h-l, l, h
		}
	}
	pieces := p.Pieces()
	grams := func() []uint32 { ids, _ := dict.Candidates(pieces...); return ids }
	if n, ok := dict.CandidateCount(pieces...); ok && n < nTerms/2 {
		useGrams, nTerms = true, n
	}
	for _, alts := range p.AltPieces() {
		if n, ok := altCandidateCount(dict, alts); ok && n < nTerms/2 {
			useGrams, nTerms = true, n
			grams = func() []uint32 { return altCandidates(dict, alts) }
		}
	}
	if cand.GetCardinality() <= uint64(nTerms) {
		last, lastOK := ^uint32(0), false
		return filterRows(dl, cand, func(row uint32) bool {
			if id := dict.RowTerm(row); id != last {
				last, lastOK = id, p.Match(dict.Term(id))
			}
			return lastOK
		})
	}
	set := &termSet{dict: dict}
	// A pattern that is only a literal prefix then `*` (or `*` then a
	// literal suffix) matches every term of its range: no need to test.
	src := p.String()
	switch {
	case !useGrams && useSuffix && src == "*"+p.Suffix():
		set.setSuffix(sufLo, sufHi)
	case !useGrams && !useSuffix && src == p.Prefix()+"*":
		for id := lo; id < hi; id++ {
			set.ids = append(set.ids, id)
		}
	default:
		key := termKey{dict, src}
		if ids, ok := cache.get(key); ok {
			set.ids = ids
			break
		}
		n, id := int(hi-lo), func(i int) uint32 { return lo + uint32(i) }
		switch {
		case useGrams:
			ids := grams()
			n, id = len(ids), func(i int) uint32 { return ids[i] }
		case useSuffix:
			ids := dict.SuffixIDs(sufLo, sufHi)
			n, id = len(ids), func(i int) uint32 { return ids[i] }
		}
		set.ids = matchingTerms(dl, dict, p, n, id)
		if dl.expired() {
			return roaring.New() // partial: never cached, never answered
		}
		if n >= cacheTerms {
			cache.put(key, set.ids)
		}
	}
	return rowsWithin(dl, cand, set)
}

// parallelTerms is the dictionary size from which matchingTerms splits
// the work across all CPUs: general patterns cost about 100-200 ns a term,
// so a service-name dictionary of 600k terms is worth splitting.
const parallelTerms = 1 << 15

// cacheTerms is how many terms a pattern must have tested for its
// matches to be kept in the term cache: a general pattern costs up to
// about 0.5 µs a term, so from here on testing costs a millisecond or
// more, while the ids cost 4 bytes each. Trigram narrowing leaves a few
// thousand candidates where a pattern once tested the whole dictionary,
// which is why this is not parallelTerms.
const cacheTerms = 1 << 11

// termCheckEvery is how many terms matchingTerms tests between two looks
// at the deadline: a term may cost up to a few microseconds (a pattern of
// expr.MaxElements elements), so fewer than checkEvery.
const termCheckEvery = 256

// matchingTerms returns the ids among id(0..n-1) whose terms p matches,
// in that order. It stops early, with a partial answer, once dl expires.
func matchingTerms(dl *deadline, dict *index.StrTerms, p *expr.Pattern, n int, id func(i int) uint32) []uint32 {
	parts := 1
	if n >= parallelTerms {
		parts = runtime.GOMAXPROCS(0)
	}
	// Part k writes its matches from the start of its own range of out,
	// so nothing grows; the parts are then moved together.
	out := make([]uint32, n)
	found := make([]int, parts)
	var wg sync.WaitGroup
	for k := range parts {
		wg.Go(func() {
			lo, hi := k*n/parts, (k+1)*n/parts
			w := lo
			for i := lo; i < hi; i++ {
				if i%termCheckEvery == 0 && dl.expired() {
					break
				}
				t := id(i)
				out[w] = t
				if p.Match(dict.Term(t)) {
					w++
				}
			}
			found[k] = w - lo
		})
	}
	wg.Wait()
	m := 0
	for k := range parts {
		lo := k * n / parts
		m += copy(out[m:], out[lo:lo+found[k]])
	}
	return out[:m:m]
}

// altCandidateCount bounds the number of terms holding any of alts by the
// sum of each one's trigram candidates; false when some alternative cannot
// be narrowed.
func altCandidateCount(dict *index.StrTerms, alts []string) (int, bool) {
	total := 0
	for _, a := range alts {
		n, ok := dict.CandidateCount(a)
		if !ok {
			return 0, false
		}
		total += n
	}
	return total, true
}

// altCandidates returns, ascending and without repeats, the trigram
// candidates of every alternative: a superset of the terms holding any.
func altCandidates(dict *index.StrTerms, alts []string) []uint32 {
	lists := make([][]uint32, 0, len(alts))
	total := 0
	for _, a := range alts {
		c, _ := dict.Candidates(a)
		lists, total = append(lists, c), total+len(c)
	}
	if len(lists) == 1 {
		return lists[0]
	}
	if total < dict.Len()/64 {
		ids := slices.Concat(lists...)
		slices.Sort(ids)
		return slices.Compact(ids)
	}
	// Each list is ascending: their union is one pass of bits over the
	// dictionary's ids, not a sort of their concatenation (300k ids for
	// the suite's ten-group pattern at 1M).
	return index.AppendSetBits(make([]uint32, 0, total), idBits(dict.Len(), lists...))
}

// denseIDRows is the number of rows of id ranges from which
// matchProcessIDs sets bits in a dense array instead of sorting them.
const denseIDRows = 4096

// matchProcessIDs returns rows whose bk_process_id text matches p: integer
// ranges by binary search on the sorted ids, otherwise by testing the
// candidate rows.
func matchProcessIDs(dl *deadline, ix *index.Index, span index.Span, p *expr.Pattern, cand *roaring.Bitmap) *roaring.Bitmap {
	if ranges, ok := p.IntRanges(); ok {
		// Ranges of ids are ranges of id ranks, and the business's rows
		// of a range of ranks are one stretch of positions of the id
		// order (rowsAtPositions), instead of a rank test per candidate
		// row.
		total := uint64(0)
		for _, r := range ranges {
			i, j := ix.ProcessRanks(r.Lo, r.Hi)
			total += uint64(j - i)
		}
		// A few ids are looked up and sorted; more are set in the dense
		// array, which sorts them for free (ProcessesIn's sort of 200k
		// rows was a fifth of a range query's time at 1M).
		if total < denseIDRows || cand.IsEmpty() {
			bms := make([]*roaring.Bitmap, 0, len(ranges))
			for _, r := range ranges {
				bms = append(bms, ix.ProcessesIn(r.Lo, r.Hi))
			}
			return index.Union(bms...)
		}
		o := ix.Order(index.KeyProcessID)
		var parts []*roaring.Bitmap
		for n, r := range ranges {
			if n%checkEvery == 0 && dl.expired() {
				break
			}
			i, j := ix.ProcessRanks(r.Lo, r.Hi)
			a, b := positionsOfRanks(o, span, i, j)
			if a == int(span.Lo) && b == int(span.Hi) {
				return cand // every process of the business
			}
			if a < b {
				parts = append(parts, rowsAtPositions(o, a, b, cand))
			}
		}
		return roaring.FastOr(parts...)
	}
	if pre := p.Prefix(); pre != "" {
		cand = roaring.And(cand, processesWithPrefix(ix, pre))
	}
	var buf [20]byte
	return filterRows(dl, cand, func(row uint32) bool {
		return p.Match(string(strconv.AppendInt(buf[:0], ix.ProcessID(row), 10)))
	})
}

// processesWithPrefix returns the rows whose decimal bk_process_id starts
// with pre: for each possible length, one contiguous range of ids.
func processesWithPrefix(ix *index.Index, pre string) *roaring.Bitmap {
	v, err := strconv.ParseInt(pre, 10, 64)
	if err != nil || v <= 0 || pre[0] == '0' || pre[0] == '+' {
		return roaring.New() // ids are positive decimals without sign or leading zeros
	}
	var bms []*roaring.Bitmap
	lo, hi := v, v // ids of len(pre)+k digits: [v·10^k, v·10^k + 10^k - 1]
	for {
		bms = append(bms, ix.ProcessesIn(lo, hi))
		if lo > math.MaxInt64/10 {
			break
		}
		lo = lo * 10
		if hi > (math.MaxInt64-9)/10 {
			hi = math.MaxInt64
		} else {
			hi = hi*10 + 9
		}
	}
	return index.Union(bms...)
}
