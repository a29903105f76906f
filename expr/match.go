package expr

import (
	"math/bits"
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
	}
}

// simulate matches s against the whole parsed sequence, without any of
// Match's shortcuts (tests compare it with Match).
func (p *Pattern) simulate(s string) bool { return simulate(p.seq, s) }

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
	if len(p.body) == 1 && p.body[0].kind == kNum {
		return len(mid) > 0 && numOK(mid, p.body[0].lo, p.body[0].hi)
	}
	return simulate(p.body, mid)
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

// simulate runs the position-set simulation: a set of reachable byte
// offsets of s (each at a character boundary) is advanced node by node; s
// matches when offset len(s) is reachable at the end. The cost is
// O(len(pattern) × len(s)) and no backtracking happens. Strings shorter
// than 64 bytes keep the set in one machine word.
func simulate(seq []node, s string) bool {
	if len(s) < 64 {
		return simulate64(seq, s)
	}
	w := len(s)>>6 + 1
	var stack [5 * stackWords]uint64
	var buf []uint64
	if w <= stackWords {
		buf = stack[:5*w]
	} else {
		buf = make([]uint64, 5*w)
	}
	cur, next, acc, bc, bn := buf[0:w], buf[w:2*w], buf[2*w:3*w], buf[3*w:4*w], buf[4*w:5*w]
	cur[0] = 1
	for i := range seq {
		nd := &seq[i]
		if nd.kind == kAlt {
			clear(acc)
			for _, br := range nd.alts {
				copy(bc, cur)
				for j := range br {
					clear(bn)
					ok := step(&br[j], s, bc, bn)
					bc, bn = bn, bc
					if !ok {
						break
					}
				}
				for k := range acc {
					acc[k] |= bc[k]
				}
			}
			cur, acc = acc, cur
			if isEmpty(cur) {
				return false
			}
			continue
		}
		clear(next)
		if !step(nd, s, cur, next) {
			return false
		}
		cur, next = next, cur
	}
	n := len(s)
	return cur[n>>6]&(1<<(uint(n)&63)) != 0
}

// simulate64 is simulate for len(s) < 64: bit i of a word is offset i.
func simulate64(seq []node, s string) bool {
	cur := uint64(1)
	for i := range seq {
		nd := &seq[i]
		if nd.kind == kAlt {
			var acc uint64
			for _, br := range nd.alts {
				b := cur
				for j := 0; j < len(br) && b != 0; j++ {
					b = step64(&br[j], s, b)
				}
				acc |= b
			}
			cur = acc
		} else {
			cur = step64(nd, s, cur)
		}
		if cur == 0 {
			return false
		}
	}
	return cur&(1<<uint(len(s))) != 0
}

// step64 returns the offsets reachable from those in in by matching node
// nd (not kAlt) of s, len(s) < 64.
func step64(nd *node, s string, in uint64) uint64 {
	if in == 0 {
		return 0
	}
	n := uint(len(s))
	if nd.kind == kStar {
		return ^uint64(0) << uint(bits.TrailingZeros64(in)) & (^uint64(0) >> (63 - n))
	}
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
// node nd (not kAlt) of s. out must be zero on entry. It reports whether
// out is non-empty.
func step(nd *node, s string, in, out []uint64) bool {
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
	hit := false
	for wi, word := range in {
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

// inClass reports whether r is in the set of class node nd.
func inClass(nd *node, r rune) bool {
	for _, rg := range nd.ranges {
		if r < rg.lo {
			return false
		}
		if r <= rg.hi {
			return true
		}
	}
	return false
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
