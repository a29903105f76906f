package expr

import (
	"math"
	"sort"
	"strconv"
	"unicode/utf8"
)

// LiteralsCap is the largest number of strings Literals enumerates.
const LiteralsCap = 256

// IntRange is a closed range of int64 values, Lo <= Hi.
type IntRange struct{ Lo, Hi int64 }

// MatchesAll reports whether every string matches, as for "*", "**", a
// blank expression or "[*, a]": true when every element of the pattern
// matches the empty string and one matches everything. It is exact for
// ordinary expressions; for contrived ones such as "[, ?*]" it may answer
// false although everything matches, so false only means "use Match".
func (p *Pattern) MatchesAll() bool { return p.all }

// Literals returns the exact set of strings the pattern matches when that
// set is finite and has at most LiteralsCap members: words, lists of words,
// small numeric and letter ranges and cross products of those. The strings
// are distinct, in no particular order. It returns false for patterns with
// `*`, `?` or negated classes, larger sets, and patterns that are not valid
// UTF-8.
func (p *Pattern) Literals() ([]string, bool) {
	if !p.litsOK {
		return nil, false
	}
	return append([]string(nil), p.lits...), true
}

// Prefix returns a literal prefix that every matching string starts with,
// "" when there is none. It never ends inside a UTF-8 sequence.
func (p *Pattern) Prefix() string { return p.prefix }

// Suffix returns a literal suffix that every matching string ends with, ""
// when there is none. It never starts inside a UTF-8 sequence.
func (p *Pattern) Suffix() string { return p.suffix }

// IntRanges describes the pattern as a set of integers. It returns true
// when every matching string is the decimal text of an integer (an optional
// `-`, no leading zeros, not "-0") and the int64 values among them are
// exactly the union of the returned ranges; integers outside int64 are
// left out (ranges are clipped to int64), so the union may be empty. The
// ranges are sorted, disjoint and not adjacent. It returns false otherwise,
// e.g. for "*", "1*" or a wide range followed by more text.
func (p *Pattern) IntRanges() ([]IntRange, bool) {
	if !p.rangesOK {
		return nil, false
	}
	return append([]IntRange{}, p.ranges...), true
}

// universalSeq reports whether seq matches every string: every node
// matches the empty string and one of them matches everything.
func universalSeq(seq []node) bool {
	uni := false
	for i := range seq {
		if !nullable(&seq[i]) {
			return false
		}
		if universal(&seq[i]) {
			uni = true
		}
	}
	return uni
}

func universal(n *node) bool {
	switch n.kind {
	case kStar:
		return true
	case kAlt:
		for _, a := range n.alts {
			if universalSeq(a) {
				return true
			}
		}
	}
	return false
}

func nullable(n *node) bool {
	switch n.kind {
	case kStar:
		return true
	case kLit:
		return n.lit == ""
	case kAlt:
		for _, a := range n.alts {
			ok := true
			for i := range a {
				if !nullable(&a[i]) {
					ok = false
					break
				}
			}
			if ok {
				return true
			}
		}
	}
	return false
}

// minLenSeq is the least byte length of a string seq can match.
func minLenSeq(seq []node) int {
	total := 0
	for _, n := range seq {
		switch n.kind {
		case kLit:
			total += len(n.lit)
		case kAny, kClass:
			total++
		case kNum:
			total += len(n.lo)
		case kAlt:
			m := -1
			for _, a := range n.alts {
				if l := minLenSeq(a); m < 0 || l < m {
					m = l
				}
			}
			total += m
		}
	}
	return total
}

// prefixSeq is the literal text every match of seq starts with.
func prefixSeq(seq []node) string {
	pre := ""
	for _, n := range seq {
		switch n.kind {
		case kLit:
			pre += n.lit
			continue
		case kNum:
			if len(n.lo) == len(n.hi) {
				pre += commonPrefix(n.lo, n.hi)
			}
		case kAlt:
			c := prefixSeq(n.alts[0])
			for _, a := range n.alts[1:] {
				c = commonPrefix(c, prefixSeq(a))
			}
			pre += c
		}
		return pre
	}
	return pre
}

// suffixSeq is the literal text every match of seq ends with.
func suffixSeq(seq []node) string {
	suf := ""
	for i := len(seq) - 1; i >= 0; i-- {
		n := &seq[i]
		switch n.kind {
		case kLit:
			suf = n.lit + suf
			continue
		case kAlt:
			c := suffixSeq(n.alts[0])
			for _, a := range n.alts[1:] {
				c = commonSuffix(c, suffixSeq(a))
			}
			suf = c + suf
		}
		return suf
	}
	return suf
}

func commonPrefix(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return a[:i]
}

func commonSuffix(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[len(a)-1-i] == b[len(b)-1-i] {
		i++
	}
	return a[len(a)-i:]
}

// trimTailRune drops an incomplete UTF-8 sequence at the end of s.
func trimTailRune(s string) string {
	for k := 1; k <= utf8.UTFMax && k <= len(s); k++ {
		if utf8.RuneStart(s[len(s)-k]) {
			if !utf8.FullRuneInString(s[len(s)-k:]) {
				return s[:len(s)-k]
			}
			break
		}
	}
	return s
}

// trimHeadRune drops continuation bytes at the start of s.
func trimHeadRune(s string) string {
	for len(s) > 0 && !utf8.RuneStart(s[0]) {
		s = s[1:]
	}
	return s
}

// literalsSeq enumerates the strings seq matches when they are finite and
// at most limit many.
func literalsSeq(seq []node, limit int) ([]string, bool) {
	if countSeq(seq, limit) > limit {
		return nil, false
	}
	out := []string{""}
	for i := range seq {
		set, ok := literalsNode(&seq[i], limit)
		if !ok || len(out)*len(set) > limit {
			return nil, false
		}
		if len(set) == 1 {
			for j := range out {
				out[j] += set[0]
			}
			continue
		}
		next := make([]string, 0, len(out)*len(set))
		seen := make(map[string]bool, len(out)*len(set))
		for _, a := range out {
			for _, b := range set {
				if s := a + b; !seen[s] {
					seen[s] = true
					next = append(next, s)
				}
			}
		}
		out = next
	}
	return out, true
}

// countSeq bounds the number of strings seq matches (repeats counted):
// the count, or limit+1 when it exceeds limit or is infinite.
func countSeq(seq []node, limit int) int {
	total := 1
	for i := range seq {
		c := countNode(&seq[i], limit)
		if c > limit || total*c > limit {
			return limit + 1
		}
		total *= c
	}
	return total
}

func countNode(n *node, limit int) int {
	switch n.kind {
	case kLit:
		return 1
	case kClass:
		if n.neg {
			return limit + 1
		}
		count := 0
		for _, r := range n.ranges {
			count += int(r.hi-r.lo) + 1
			if count > limit {
				return limit + 1
			}
		}
		return count
	case kNum:
		if len(n.hi) > 18 {
			return limit + 1
		}
		lo, _ := strconv.ParseInt(n.lo, 10, 64)
		hi, _ := strconv.ParseInt(n.hi, 10, 64)
		if hi-lo >= int64(limit) {
			return limit + 1
		}
		return int(hi-lo) + 1
	case kAlt:
		count := 0
		for _, a := range n.alts {
			count += countSeq(a, limit)
			if count > limit {
				return limit + 1
			}
		}
		return count
	}
	return limit + 1
}

func literalsNode(n *node, limit int) ([]string, bool) {
	switch n.kind {
	case kLit:
		return []string{n.lit}, true
	case kClass:
		if n.neg {
			return nil, false
		}
		count := 0
		for _, r := range n.ranges {
			count += int(r.hi-r.lo) + 1
			if count > limit {
				return nil, false
			}
		}
		var out []string
		for _, r := range n.ranges {
			for c := r.lo; c <= r.hi; c++ {
				if utf8.ValidRune(c) {
					out = append(out, string(c))
				}
			}
		}
		return out, true
	case kNum:
		if len(n.hi) > 18 {
			return nil, false
		}
		lo, _ := strconv.ParseInt(n.lo, 10, 64)
		hi, _ := strconv.ParseInt(n.hi, 10, 64)
		if hi-lo >= int64(limit) {
			return nil, false
		}
		out := make([]string, 0, hi-lo+1)
		for v := lo; v <= hi; v++ {
			out = append(out, strconv.FormatInt(v, 10))
		}
		return out, true
	case kAlt:
		var out []string
		seen := map[string]bool{}
		for _, a := range n.alts {
			set, ok := literalsSeq(a, limit)
			if !ok {
				return nil, false
			}
			for _, s := range set {
				if !seen[s] {
					seen[s] = true
					out = append(out, s)
				}
			}
			if len(out) > limit {
				return nil, false
			}
		}
		return out, true
	}
	return nil, false
}

// intRanges computes the IntRanges answer of a pattern from its sequence
// and, when known, its literal set.
func intRanges(seq []node, lits []string, litsOK bool) ([]IntRange, bool) {
	var out []IntRange
	addText := func(s string) bool {
		v, isInt, fits := decimalInt(s)
		if !isInt {
			return false
		}
		if fits {
			out = append(out, IntRange{v, v})
		}
		return true
	}
	switch {
	case litsOK:
		for _, s := range lits {
			if !addText(s) {
				return nil, false
			}
		}
	case len(seq) == 1 && seq[0].kind == kNum:
		if r, ok := clipNum(&seq[0]); ok {
			out = append(out, r)
		}
	case len(seq) == 1 && seq[0].kind == kAlt:
		for _, a := range seq[0].alts {
			switch {
			case len(a) == 1 && a[0].kind == kNum:
				if r, ok := clipNum(&a[0]); ok {
					out = append(out, r)
				}
			case len(a) == 1 && a[0].kind == kLit:
				if !addText(a[0].lit) {
					return nil, false
				}
			default:
				set, ok := literalsSeq(a, LiteralsCap)
				if !ok {
					return nil, false
				}
				for _, s := range set {
					if !addText(s) {
						return nil, false
					}
				}
			}
		}
	default:
		return nil, false
	}
	return mergeIntRanges(out), true
}

// decimalInt reports whether s is the decimal text of an integer (optional
// `-`, digits, no leading zeros, not "-0") and, when it fits, its value.
func decimalInt(s string) (v int64, isInt, fits bool) {
	d := s
	if len(d) > 0 && d[0] == '-' {
		d = d[1:]
		if d == "0" {
			return 0, false, false
		}
	}
	if !allDigits(d) || (len(d) > 1 && d[0] == '0') {
		return 0, false, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return v, true, err == nil
}

// clipNum is the int64 part of numeric range node n.
func clipNum(n *node) (IntRange, bool) {
	const max = "9223372036854775807"
	if cmpDigits(n.lo, max) > 0 {
		return IntRange{}, false
	}
	lo, _ := strconv.ParseInt(n.lo, 10, 64)
	hi := int64(math.MaxInt64)
	if cmpDigits(n.hi, max) <= 0 {
		hi, _ = strconv.ParseInt(n.hi, 10, 64)
	}
	return IntRange{lo, hi}, true
}

func mergeIntRanges(rs []IntRange) []IntRange {
	if len(rs) == 0 {
		return []IntRange{}
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].Lo < rs[j].Lo })
	out := rs[:1]
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if last.Hi == math.MaxInt64 || r.Lo <= last.Hi+1 {
			if r.Hi > last.Hi {
				last.Hi = r.Hi
			}
			continue
		}
		out = append(out, r)
	}
	return out
}
