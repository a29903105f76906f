package expr

import (
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode"
	"unicode/utf8"
)

// SyntaxError is the error of an expression whose `[` has no `]` after it
// (API code 4111001).
type SyntaxError struct {
	// Expr is the whole expression, trimmed.
	Expr string
	// Part is the offending part of Expr, from the unmatched `[` to the end.
	Part string
}

// Error returns the GSEKit message, e.g. "枚举表达式缺少`]`: [12".
func (e *SyntaxError) Error() string {
	return "枚举表达式缺少`]`: " + e.Part
}

// MaxElements is the most elements an expression may have: words,
// wildcards, classes, ranges, and each alternative's own elements. Matching
// costs at most a constant times elements × value length per value, and a
// request tests up to a dictionary of values, so the bound keeps the worst
// expression at 100k processes well under a second (docs/DECISIONS.md).
const MaxElements = 256

// LimitError is the error of an expression with more than MaxElements
// elements (API code 4111001).
type LimitError struct {
	// Expr is the whole expression, trimmed.
	Expr string
}

// Error names the limit.
func (e *LimitError) Error() string {
	return "表达式过于复杂: more than the limit of " + strconv.Itoa(MaxElements) +
		" elements (words, wildcards, classes, ranges, list alternatives)"
}

// kind is the type of a node of the parsed expression.
type kind uint8

const (
	kLit   kind = iota // literal bytes
	kStar              // `*`: any run of characters
	kAny               // `?`: exactly one character
	kClass             // one character in (or, negated, not in) a set
	kNum               // a decimal number lo..hi written without leading zeros
	kAlt               // one of several sequences
)

// runeRange is a closed range of code points.
type runeRange struct{ lo, hi rune }

// node is one element of a parsed expression. A pattern is a sequence of
// nodes; only kAlt holds sequences of its own, and those never contain kAlt.
type node struct {
	kind    kind
	lit     string      // kLit
	invalid bool        // kLit: lit is not valid UTF-8
	neg     bool        // kClass
	ranges  []runeRange // kClass: sorted, disjoint, non-adjacent
	lo, hi  string      // kNum: canonical digit strings, lo < hi numerically
	alts    [][]node    // kAlt: at least two distinct branches
}

// Pattern is a parsed and compiled field expression. It is safe for
// concurrent use: what it matches never changes, and the automaton Match
// builds as it goes is shared safely.
type Pattern struct {
	src string
	seq []node

	all      bool
	minLen   int
	prefix   string
	suffix   string
	lits     []string
	litsOK   bool
	ranges   []IntRange
	rangesOK bool

	mode   matchMode
	exact  string              // modeExact
	litSet map[string]struct{} // modeSet
	segs   []string            // modeGlob: literal segments between stars
	num    *node               // modeNum
	head   string              // modeSim: leading literal node, matched as a prefix
	tail   string              // modeSim: trailing literal node, matched as a suffix
	body   []node              // modeSim: the nodes between head and tail
	prog   *prog               // modeSim: body ready for simulation
	// modeSim: body's automaton over ASCII (lazy: made by the first
	// Match that needs it; without a start when body is too big).
	dfa atomic.Pointer[dfa]
	// modeSim: the bytes a match of body begins and ends with, when known
	// (firstOK, lastOK): tested before simulating.
	first, last     byteSet
	firstOK, lastOK bool
}

// Parse parses one field expression. The input is first trimmed of ASCII
// white space; a blank expression means "*". The only syntax error is a `[`
// with no `]` after it, reported as a *SyntaxError; an expression with
// more than MaxElements elements is refused with a *LimitError.
func Parse(s string) (*Pattern, error) {
	t := trimASCII(s)
	if t == "" {
		t = "*"
	}
	var b seqBuilder
	i := 0
	for i < len(t) {
		j := strings.IndexByte(t[i:], '[')
		if j < 0 {
			b.word(t[i:])
			break
		}
		open := i + j
		b.word(t[i:open])
		k := strings.IndexByte(t[open+1:], ']')
		if k < 0 {
			return nil, &SyntaxError{Expr: t, Part: t[open:]}
		}
		end := open + 1 + k
		b.add(parseGroup(t[open+1 : end])...)
		i = end + 1
	}
	if b.over {
		return nil, &LimitError{Expr: t}
	}
	p := &Pattern{src: t, seq: b.seq}
	p.compile()
	return p, nil
}

// String returns the expression as parsed: trimmed, "*" when blank.
func (p *Pattern) String() string { return p.src }

// parseGroup reads the content C of a bracket group `[C]`.
func parseGroup(c string) []node {
	if !strings.HasPrefix(c, "!") && strings.Contains(c, ",") {
		parts := strings.Split(c, ",")
		alts := make([][]node, 0, len(parts))
		for _, a := range parts {
			alts = append(alts, parseItem(trimASCII(a)))
		}
		return alternatives(alts)
	}
	return parseItem(c)
}

// parseItem reads a group content without commas, or one alternative of a
// list: a negated class, a numeric range, a letter range or else a word.
func parseItem(c string) []node {
	if strings.HasPrefix(c, "!") {
		return []node{{kind: kClass, neg: true, ranges: parseClassSet(c[1:])}}
	}
	if lo, hi, ok := numRange(c); ok {
		return []node{{kind: kNum, lo: lo, hi: hi}}
	}
	if lo, hi, ok := letterRange(c); ok {
		return []node{{kind: kClass, ranges: []runeRange{{lo, hi}}}}
	}
	var b seqBuilder
	b.word(c)
	return b.seq
}

// alternatives builds the node of a list of alternatives, dropping repeated
// branches; a list whose branches are all the same is that branch.
func alternatives(alts [][]node) []node {
	seen := make(map[string]bool, len(alts))
	out := alts[:0]
	for _, a := range alts {
		k := seqKey(a)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, a)
	}
	if len(out) == 1 {
		return out[0]
	}
	return []node{{kind: kAlt, alts: out}}
}

// seqKey is a canonical text of a sequence without kAlt nodes, equal for
// equal sequences.
func seqKey(seq []node) string {
	var sb strings.Builder
	for _, n := range seq {
		switch n.kind {
		case kLit:
			sb.WriteByte('L')
			writeLen(&sb, len(n.lit))
			sb.WriteString(n.lit)
		case kStar:
			sb.WriteByte('*')
		case kAny:
			sb.WriteByte('?')
		case kClass:
			if n.neg {
				sb.WriteByte('!')
			}
			sb.WriteByte('C')
			for _, r := range n.ranges {
				writeLen(&sb, int(r.lo))
				writeLen(&sb, int(r.hi))
			}
			sb.WriteByte(';')
		case kNum:
			sb.WriteByte('N')
			sb.WriteString(n.lo)
			sb.WriteByte('-')
			sb.WriteString(n.hi)
			sb.WriteByte(';')
		}
	}
	return sb.String()
}

func writeLen(sb *strings.Builder, v int) {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	sb.Write(buf[i:])
	sb.WriteByte(':')
}

// numRange reports whether c is a numeric range `a-b` of ASCII decimal
// digits with a < b, and returns both bounds without leading zeros.
func numRange(c string) (lo, hi string, ok bool) {
	i := strings.IndexByte(c, '-')
	if i < 0 {
		return "", "", false
	}
	a, b := c[:i], c[i+1:]
	if !allDigits(a) || !allDigits(b) {
		return "", "", false
	}
	a, b = canonDigits(a), canonDigits(b)
	if cmpDigits(a, b) >= 0 {
		return "", "", false
	}
	return a, b, true
}

// letterRange reports whether c is a letter range `x-y`: two single
// letters of the same case (both lower, both upper or both caseless) with
// x < y.
func letterRange(c string) (lo, hi rune, ok bool) {
	x, w1 := utf8.DecodeRuneInString(c)
	if w1 == 0 || w1 >= len(c) || c[w1] != '-' {
		return 0, 0, false
	}
	y, w2 := utf8.DecodeRuneInString(c[w1+1:])
	if w2 == 0 || w1+1+w2 != len(c) {
		return 0, 0, false
	}
	if !unicode.IsLetter(x) || !unicode.IsLetter(y) || letterCase(x) != letterCase(y) || x >= y {
		return 0, 0, false
	}
	return x, y, true
}

func letterCase(r rune) int {
	switch {
	case unicode.IsLower(r):
		return 1
	case unicode.IsUpper(r):
		return 2
	}
	return 0
}

// parseClassSet reads the set of a negated class: single code points and
// ranges `x-y`. A reversed range (x > y) adds nothing, as in fnmatch; a `-`
// at either end is itself a member.
func parseClassSet(c string) []runeRange {
	var rs []rune
	for i := 0; i < len(c); {
		r, w := utf8.DecodeRuneInString(c[i:])
		rs = append(rs, r)
		i += w
	}
	var out []runeRange
	for i := 0; i < len(rs); {
		if i+2 < len(rs) && rs[i+1] == '-' {
			if rs[i] <= rs[i+2] {
				out = append(out, runeRange{rs[i], rs[i+2]})
			}
			i += 3
			continue
		}
		out = append(out, runeRange{rs[i], rs[i]})
		i++
	}
	return mergeRuneRanges(out)
}

func mergeRuneRanges(rs []runeRange) []runeRange {
	if len(rs) == 0 {
		return nil
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].lo < rs[j].lo })
	out := rs[:1]
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if r.lo <= last.hi+1 {
			if r.hi > last.hi {
				last.hi = r.hi
			}
			continue
		}
		out = append(out, r)
	}
	return out
}

// seqBuilder appends nodes to a sequence, merging adjacent literals and
// stars and dropping empty literals. It counts the elements it holds (a
// node and the nodes of its alternatives) and, past MaxElements, sets over
// and stops growing, so parsing a huge expression costs its length only.
type seqBuilder struct {
	seq  []node
	n    int
	over bool
}

func (b *seqBuilder) add(ns ...node) {
	for _, n := range ns {
		if b.over {
			return
		}
		last := len(b.seq) - 1
		switch n.kind {
		case kLit:
			if n.lit == "" {
				continue
			}
			if last >= 0 && b.seq[last].kind == kLit {
				b.seq[last].lit += n.lit
				b.seq[last].invalid = !utf8.ValidString(b.seq[last].lit)
				continue
			}
			n.invalid = !utf8.ValidString(n.lit)
		case kStar:
			if last >= 0 && b.seq[last].kind == kStar {
				continue
			}
		}
		b.seq = append(b.seq, n)
		b.n++
		for _, a := range n.alts {
			b.n += len(a)
		}
		b.over = b.n > MaxElements
	}
}

// word appends a word: literal text in which `*` and `?` are wildcards.
func (b *seqBuilder) word(w string) {
	start := 0
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c != '*' && c != '?' {
			continue
		}
		b.add(node{kind: kLit, lit: w[start:i]})
		if c == '*' {
			b.add(node{kind: kStar})
		} else {
			b.add(node{kind: kAny})
		}
		start = i + 1
	}
	b.add(node{kind: kLit, lit: w[start:]})
}

// trimASCII trims ASCII white space (space, \t, \n, \v, \f, \r) at both ends.
func trimASCII(s string) string {
	i, j := 0, len(s)
	for i < j && isASCIISpace(s[i]) {
		i++
	}
	for j > i && isASCIISpace(s[j-1]) {
		j--
	}
	return s[i:j]
}

func isASCIISpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// canonDigits strips leading zeros from a non-empty digit string ("000" is "0").
func canonDigits(s string) string {
	i := 0
	for i < len(s)-1 && s[i] == '0' {
		i++
	}
	return s[i:]
}

// cmpDigits compares two canonical digit strings numerically.
func cmpDigits(a, b string) int {
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}
