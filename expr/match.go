package expr

import (
	"math/bits"
	"slices"
	"strings"
	"unicode/utf8"
)

// matchMode selects how Match runs for a compiled pattern.
type matchMode uint8

const (
	modeSim   matchMode = iota // position-set simulation, the general case
	modeAll                    // every string matches
	modeExact                  // exactly one string matches
	modeSet                    // a small finite set of strings matches
	modeGlob                   // literals and stars only
	modeNum                    // a single numeric range
)

// stackWords is the number of 64-bit words of each position set kept on
// the stack: strings shorter than 64*stackWords bytes match without
// allocating.
const stackWords = 4

// compile analyses the parsed sequence and chooses the matching strategy.
func (p *Pattern) compile() {
	valid := utf8.ValidString(p.src)
	p.all = universalSeq(p.seq)
	p.minLen = minLenSeq(p.seq)
	p.prefix = trimTailRune(prefixSeq(p.seq))
	p.suffix = trimHeadRune(suffixSeq(p.seq))
	if valid {
		p.lits, p.litsOK = literalsSeq(p.seq, LiteralsCap)
	}
	if valid {
		p.ranges, p.rangesOK = intRanges(p.seq, p.lits, p.litsOK)
	}

	switch {
	case p.all:
		p.mode = modeAll
	case p.litsOK && len(p.lits) == 1:
		p.mode, p.exact = modeExact, p.lits[0]
	case p.litsOK:
		p.mode = modeSet
		p.litSet = make(map[string]struct{}, len(p.lits))
		for _, l := range p.lits {
			p.litSet[l] = struct{}{}
		}
	case len(p.seq) == 1 && p.seq[0].kind == kNum:
		p.mode, p.num = modeNum, &p.seq[0]
	case valid && globOnly(p.seq):
		p.mode = modeGlob
		seg := ""
		for _, n := range p.seq {
			if n.kind == kStar {
				p.segs = append(p.segs, seg)
				seg = ""
			} else {
				seg = n.lit
			}
		}
		p.segs = append(p.segs, seg)
	default:
		p.mode = modeSim
		p.body = p.seq
		if valid && len(p.body) > 0 && p.body[0].kind == kLit {
			p.head, p.body = p.body[0].lit, p.body[1:]
		}
		if valid && len(p.body) > 0 && p.body[len(p.body)-1].kind == kLit {
			p.tail, p.body = p.body[len(p.body)-1].lit, p.body[:len(p.body)-1]
		}
		p.prog = newProg(p.body)
		p.first, p.firstOK = endBytes(p.body, false)
		p.last, p.lastOK = endBytes(p.body, true)
	}
}

// simulate matches s against the whole parsed sequence, without any of
// Match's shortcuts (tests compare it with Match).
func (p *Pattern) simulate(s string) bool {
	ok, _ := simulate(newProg(p.seq), s)
	return ok
}

// globOnly reports whether seq holds only literals and stars, with at
// least one star.
func globOnly(seq []node) bool {
	star := false
	for _, n := range seq {
		switch n.kind {
		case kStar:
			star = true
		case kLit:
		default:
			return false
		}
	}
	return star
}

// Match reports whether the pattern matches the whole of s. Characters are
// Unicode code points; a byte that is not part of valid UTF-8 counts as one
// character (U+FFFD for class membership).
func (p *Pattern) Match(s string) bool {
	switch p.mode {
	case modeAll:
		return true
	case modeExact:
		return s == p.exact
	case modeSet:
		_, ok := p.litSet[s]
		return ok
	case modeNum:
		return len(s) > 0 && numOK(s, p.num.lo, p.num.hi)
	case modeGlob:
		return matchGlob(p.segs, s)
	}
	if len(s) < p.minLen || !strings.HasPrefix(s, p.prefix) || !strings.HasSuffix(s, p.suffix) {
		return false
	}
	// The leading and trailing literal nodes are matched by the prefix and
	// suffix checks; only the body between them needs simulating.
	mid := s[len(p.head) : len(s)-len(p.tail)]
	if (p.firstOK || p.lastOK) && !p.endsOK(mid) {
		return false
	}
	if len(p.body) == 1 && p.body[0].kind == kNum {
		return len(mid) > 0 && numOK(mid, p.body[0].lo, p.body[0].hi)
	}
	if ok, decided := p.automaton().match(mid); decided {
		return ok
	}
	ok, _ := simulate(p.prog, mid)
	return ok
}

// automaton returns the body's automaton, building it on first use (two
// goroutines may both build it; one copy is kept).
func (p *Pattern) automaton() *dfa {
	if d := p.dfa.Load(); d != nil {
		return d
	}
	p.dfa.CompareAndSwap(nil, newDFA(p.body))
	return p.dfa.Load()
}

// endsOK reports whether mid begins and ends with bytes a match of the
// body may begin and end with.
func (p *Pattern) endsOK(mid string) bool {
	if mid == "" {
		return false // the body matches no empty string when either is known
	}
	return (!p.firstOK || p.first.has(mid[0])) && (!p.lastOK || p.last.has(mid[len(mid)-1]))
}

// numOK reports whether the digit run t (all ASCII digits, non-empty) is
// written without leading zeros and lies in lo..hi.
func numOK(t, lo, hi string) bool {
	if len(t) > 1 && t[0] == '0' {
		return false
	}
	if len(t) < len(lo) || len(t) > len(hi) {
		return false
	}
	for i := 0; i < len(t); i++ {
		if !isDigit(t[i]) {
			return false
		}
	}
	if len(t) == len(lo) && t < lo {
		return false
	}
	if len(t) == len(hi) && t > hi {
		return false
	}
	return true
}

// matchGlob matches literal segments separated by stars: the first is a
// prefix, the last a suffix, the middle ones are found leftmost in order.
func matchGlob(segs []string, s string) bool {
	first, last := segs[0], segs[len(segs)-1]
	if !strings.HasPrefix(s, first) {
		return false
	}
	s = s[len(first):]
	if !strings.HasSuffix(s, last) {
		return false
	}
	s = s[:len(s)-len(last)]
	for _, m := range segs[1 : len(segs)-1] {
		i := strings.Index(s, m)
		if i < 0 {
			return false
		}
		s = s[i+len(m):]
	}
	return true
}

// prog is a node sequence ready for simulation, with two facts about it
// that let the simulation skip nodes without changing its answer.
type prog struct {
	nodes []node
	// runEnd[i] is the index after the run of nodes equal to nodes[i]: a
	// node that leaves the position set unchanged leaves it unchanged
	// again, so once one does, the rest of its run is skipped.
	runEnd []int32
	// nullEnd[i] is the first index >= i whose node does not match the
	// empty string. Such a nullable node keeps every position and adds
	// none before the least one, so when the set already holds every
	// character boundary from its least position on (it is saturated),
	// the nodes up to nullEnd are skipped.
	nullEnd []int32
}

// newProg prepares seq for simulation.
func newProg(seq []node) *prog {
	n := len(seq)
	pr := &prog{nodes: seq, runEnd: make([]int32, n), nullEnd: make([]int32, n)}
	next := int32(n)
	for i := n - 1; i >= 0; i-- {
		if !nullable(&seq[i]) {
			next = int32(i)
		}
		pr.nullEnd[i] = next
		pr.runEnd[i] = int32(i + 1)
		if i+1 < n && nodeEqual(&seq[i], &seq[i+1]) {
			pr.runEnd[i] = pr.runEnd[i+1]
		}
	}
	return pr
}

// nodeEqual reports whether two nodes match the same strings by the same
// structure.
func nodeEqual(a, b *node) bool {
	if a.kind != b.kind {
		return false
	}
	if a.kind != kAlt {
		return seqKey([]node{*a}) == seqKey([]node{*b})
	}
	if len(a.alts) != len(b.alts) {
		return false
	}
	for i := range a.alts {
		if seqKey(a.alts[i]) != seqKey(b.alts[i]) {
			return false
		}
	}
	return true
}

// simulate runs the position-set simulation of pr over s: a set of
// reachable byte offsets of s (each at a character boundary) is advanced
// node by node, with no backtracking and no expansion of alternatives; s
// matches when offset len(s) is reachable at the end. It also returns the
// work done, in steps: one per node applied plus, per position it tests,
// one and the bytes the test may compare, plus one per word of the set
// for each node on long strings. The steps are at most a small constant
// times (len(pattern)+1) × (len(s)+1) (FuzzMatchCost). Strings shorter
// than 64 bytes keep the set in one machine word.
func simulate(pr *prog, s string) (bool, int) {
	if len(s) < 64 {
		return simulate64(pr, s)
	}
	w := len(s)>>6 + 1
	var stack [6 * stackWords]uint64
	var buf []uint64
	if w <= stackWords {
		buf = stack[:6*w]
	} else {
		buf = make([]uint64, 6*w)
	}
	cur, next, acc, bc, bn, all := buf[0:w], buf[w:2*w], buf[2*w:3*w], buf[3*w:4*w], buf[4*w:5*w], buf[5*w:6*w]
	haveAll := false // all is computed on first use
	cur[0] = 1
	steps := 0
	for i := 0; i < len(pr.nodes); {
		nd := &pr.nodes[i]
		steps += 1 + w
		if pr.nullEnd[i] > int32(i) {
			if !haveAll {
				boundaries(s, all)
				haveAll = true
			}
			if saturated(cur, all) {
				i = int(pr.nullEnd[i])
				continue
			}
		}
		if nd.kind == kAlt {
			clear(acc)
			for _, br := range nd.alts {
				copy(bc, cur)
				for j := range br {
					clear(bn)
					steps += w
					ok := step(&br[j], s, bc, bn, &steps)
					bc, bn = bn, bc
					if !ok {
						break
					}
				}
				for k := range acc {
					acc[k] |= bc[k]
				}
			}
			next, acc = acc, next
		} else {
			clear(next)
			step(nd, s, cur, next, &steps)
		}
		if isEmpty(next) {
			return false, steps
		}
		if slices.Equal(next, cur) {
			i = int(pr.runEnd[i])
		} else {
			i++
		}
		cur, next = next, cur
	}
	n := len(s)
	return cur[n>>6]&(1<<(uint(n)&63)) != 0, steps
}

// simulate64 is simulate for len(s) < 64: bit i of a word is offset i.
func simulate64(pr *prog, s string) (bool, int) {
	cur := uint64(1)
	var all uint64 // character boundaries, computed on first use
	steps := 0
	for i := 0; i < len(pr.nodes); {
		nd := &pr.nodes[i]
		steps++
		if pr.nullEnd[i] > int32(i) {
			if all == 0 {
				all = boundaries64(s)
			}
			if low := cur & -cur; all&^(low-1)&^cur == 0 {
				i = int(pr.nullEnd[i])
				continue
			}
		}
		var next uint64
		if nd.kind == kAlt {
			for _, br := range nd.alts {
				b := cur
				for j := 0; j < len(br) && b != 0; j++ {
					b = step64(&br[j], s, b, &steps)
				}
				next |= b
			}
		} else {
			next = step64(nd, s, cur, &steps)
		}
		if next == 0 {
			return false, steps
		}
		if next == cur {
			i = int(pr.runEnd[i])
		} else {
			i++
		}
		cur = next
	}
	return cur&(1<<uint(len(s))) != 0, steps
}

// boundaries64 returns the offsets 0..len(s) that start a character (or
// end s), len(s) < 64.
func boundaries64(s string) uint64 {
	all := uint64(1)<<uint(len(s)+1) - 1
	for p := 1; p < len(s); p++ {
		if s[p] >= 0x80 && !isBoundary(s, p) {
			all &^= 1 << uint(p)
		}
	}
	return all
}

// boundaries sets in all the offsets 0..len(s) that start a character (or
// end s).
func boundaries(s string, all []uint64) {
	setRange(all, 0, len(s))
	for p := 1; p < len(s); p++ {
		if s[p] >= 0x80 && !isBoundary(s, p) {
			all[p>>6] &^= 1 << (uint(p) & 63)
		}
	}
}

// saturated reports whether set holds every offset of all from its least
// one on.
func saturated(set, all []uint64) bool {
	for wi, word := range set {
		if word == 0 {
			if all[wi] != 0 {
				return false
			}
			continue
		}
		low := word & -word
		if all[wi]&^(low-1)&^word != 0 {
			return false
		}
		for k := wi + 1; k < len(set); k++ {
			if all[k]&^set[k] != 0 {
				return false
			}
		}
		return true
	}
	return false
}

// positionCost is the steps testing node nd at one position of s costs:
// one, plus the bytes the test may compare.
func positionCost(nd *node, s string) int {
	switch nd.kind {
	case kLit:
		return 1 + min(len(nd.lit), len(s))
	case kNum:
		return 1 + min(len(nd.hi), len(s))
	}
	return 1
}

// step64 returns the offsets reachable from those in in by matching node
// nd (not kAlt) of s, len(s) < 64, and adds its work to steps.
func step64(nd *node, s string, in uint64, steps *int) uint64 {
	if in == 0 {
		return 0
	}
	n := uint(len(s))
	if nd.kind == kStar {
		*steps++
		return ^uint64(0) << uint(bits.TrailingZeros64(in)) & (^uint64(0) >> (63 - n))
	}
	*steps += bits.OnesCount64(in) * positionCost(nd, s)
	var out uint64
	for in != 0 {
		p := bits.TrailingZeros64(in)
		in &= in - 1
		switch nd.kind {
		case kLit:
			if e, ok := litEnd(nd, s, p); ok {
				out |= 1 << uint(e)
			}
		case kAny, kClass:
			if e, ok := charEnd(nd, s, p); ok {
				out |= 1 << uint(e)
			}
		case kNum:
			if lo, hi := numEnds(nd, s, p); lo <= hi {
				out |= ^uint64(0) << uint(lo) & (^uint64(0) >> (63 - uint(hi)))
			}
		}
	}
	return out
}

func isEmpty(set []uint64) bool {
	for _, w := range set {
		if w != 0 {
			return false
		}
	}
	return true
}

// step computes out = the offsets reachable from those in in by matching
// node nd (not kAlt) of s, and adds its work to steps. out must be zero on
// entry. It reports whether out is non-empty.
func step(nd *node, s string, in, out []uint64, steps *int) bool {
	n := len(s)
	if nd.kind == kStar {
		for wi, word := range in {
			if word == 0 {
				continue
			}
			setRange(out, wi<<6+bits.TrailingZeros64(word), n)
			return true
		}
		return false
	}
	cost := positionCost(nd, s)
	hit := false
	for wi, word := range in {
		*steps += bits.OnesCount64(word) * cost
		for word != 0 {
			p := wi<<6 + bits.TrailingZeros64(word)
			word &= word - 1
			switch nd.kind {
			case kLit:
				if e, ok := litEnd(nd, s, p); ok {
					set(out, e)
					hit = true
				}
			case kAny, kClass:
				if e, ok := charEnd(nd, s, p); ok {
					set(out, e)
					hit = true
				}
			case kNum:
				if lo, hi := numEnds(nd, s, p); lo <= hi {
					setRange(out, lo, hi)
					hit = true
				}
			}
		}
	}
	return hit
}

// litEnd matches literal node nd at offset p of s.
func litEnd(nd *node, s string, p int) (int, bool) {
	l := nd.lit
	e := p + len(l)
	if e > len(s) || s[p:e] != l {
		return 0, false
	}
	// A valid literal can only start and end at character boundaries; an
	// invalid one must be checked.
	if nd.invalid && !(isBoundary(s, p) && isBoundary(s, e)) {
		return 0, false
	}
	return e, true
}

// charEnd matches one character at offset p of s against kAny or kClass
// node nd.
func charEnd(nd *node, s string, p int) (int, bool) {
	if p >= len(s) {
		return 0, false
	}
	c := s[p]
	r, w := rune(c), 1
	if c >= utf8.RuneSelf {
		if c < 0xC0 && !isBoundary(s, p) {
			return 0, false
		}
		r, w = utf8.DecodeRuneInString(s[p:])
	}
	if nd.kind == kClass && inClass(nd, r) == nd.neg {
		return 0, false
	}
	return p + w, true
}

// numEnds returns the interval lo..hi of offsets e such that s[p:e] is a
// number in nd.lo..nd.hi written without leading zeros; lo > hi when there
// is none. Valid ends are contiguous: every length strictly between
// len(nd.lo) and len(nd.hi) is in range, and the two extreme lengths are
// the only ones needing a comparison.
func numEnds(nd *node, s string, p int) (lo, hi int) {
	if p >= len(s) || !isDigit(s[p]) {
		return 1, 0
	}
	if s[p] == '0' {
		if nd.lo == "0" {
			return p + 1, p + 1
		}
		return 1, 0
	}
	q := p + 1 // end of the digit run, at most len(nd.hi) long
	for q < len(s) && q < p+len(nd.hi) && isDigit(s[q]) {
		q++
	}
	lo, hi = p+len(nd.lo), q
	if lo <= hi && s[p:lo] < nd.lo {
		lo++
	}
	if hi-p == len(nd.hi) && s[p:hi] > nd.hi {
		hi--
	}
	return lo, hi
}

// inClass reports whether r is in the set of class node nd, by binary
// search over its sorted ranges.
func inClass(nd *node, r rune) bool {
	rs := nd.ranges
	lo, hi := 0, len(rs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if rs[m].hi < r {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo < len(rs) && rs[lo].lo <= r
}

// isBoundary reports whether byte offset p of s starts a character, given
// that an invalid byte is a character of its own.
func isBoundary(s string, p int) bool {
	if p <= 0 || p >= len(s) {
		return true
	}
	if c := s[p]; c < 0x80 || c >= 0xC0 {
		return true
	}
	for k := 1; k <= 3 && p-k >= 0; k++ {
		if s[p-k]&0xC0 != 0x80 {
			_, w := utf8.DecodeRuneInString(s[p-k:])
			return w <= k
		}
	}
	return true
}

func set(b []uint64, i int) { b[i>>6] |= 1 << (uint(i) & 63) }

// setRange sets every offset from lo to hi inclusive.
func setRange(b []uint64, lo, hi int) {
	wlo, whi := lo>>6, hi>>6
	for w := wlo; w <= whi; w++ {
		b[w] = ^uint64(0)
	}
	b[wlo] &= ^uint64(0) << (uint(lo) & 63)
	b[whi] &= ^uint64(0) >> (63 - uint(hi)&63)
}
