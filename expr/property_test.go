package expr

import (
	"errors"
	"math"
	"math/big"
	"math/rand"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// The reference matcher below is written straight from the words of SPEC
// sections 4 and 10, over code points, by exhaustive backtracking. It is
// slow (exponential in the number of stars) and shares no code with the
// package: only inputs of a few characters are fed to it.

var errRefSyntax = errors.New("reference: `[` with no `]`")

// refMatch reports whether expression e matches the whole of s.
func refMatch(e, s string) (bool, error) {
	e = strings.Trim(e, " \t\n\v\f\r")
	if e == "" {
		e = "*"
	}
	p := []rune(e)
	// Syntax: every `[` must have a `]` after it; groups run to the first.
	for i := 0; i < len(p); i++ {
		if p[i] == '[' {
			j := refIndex(p, i+1, ']')
			if j < 0 {
				return false, errRefSyntax
			}
			i = j
		}
	}
	r := &refMatcher{p: p, t: []rune(s), memo: map[[2]int]bool{}}
	return r.match(0, 0), nil
}

// refMatcher memoizes match results per (pattern offset, text offset) so
// that many groups and stars stay affordable; the search is unchanged.
type refMatcher struct {
	p, t []rune
	memo map[[2]int]bool
}

func refIndex(rs []rune, from int, c rune) int {
	for i := from; i < len(rs); i++ {
		if rs[i] == c {
			return i
		}
	}
	return -1
}

func (r *refMatcher) match(pi, ti int) bool {
	k := [2]int{pi, ti}
	if v, ok := r.memo[k]; ok {
		return v
	}
	v := r.search(pi, ti)
	r.memo[k] = v
	return v
}

func (r *refMatcher) search(pi, ti int) bool {
	if pi == len(r.p) {
		return ti == len(r.t)
	}
	switch c := r.p[pi]; c {
	case '*':
		for k := ti; k <= len(r.t); k++ {
			if r.match(pi+1, k) {
				return true
			}
		}
		return false
	case '?':
		return ti < len(r.t) && r.match(pi+1, ti+1)
	case '[':
		end := refIndex(r.p, pi+1, ']')
		for _, k := range r.groupEnds(string(r.p[pi+1:end]), ti) {
			if r.match(end+1, k) {
				return true
			}
		}
		return false
	default:
		return ti < len(r.t) && r.t[ti] == c && r.match(pi+1, ti+1)
	}
}

// groupEnds lists the text offsets where group content c can end when it
// starts at offset ti.
func (r *refMatcher) groupEnds(c string, ti int) []int {
	if strings.HasPrefix(c, "!") {
		return r.itemEnds(c, ti)
	}
	if strings.Contains(c, ",") {
		var out []int
		for _, alt := range strings.Split(c, ",") {
			out = append(out, r.itemEnds(strings.Trim(alt, " \t\n\v\f\r"), ti)...)
		}
		return out
	}
	return r.itemEnds(c, ti)
}

var (
	refNumRange = regexp.MustCompile(`^([0-9]+)-([0-9]+)$`)
	refCanonNum = regexp.MustCompile(`^(0|[1-9][0-9]*)$`)
	refCanonInt = regexp.MustCompile(`^(0|-?[1-9][0-9]*)$`)
)

func (r *refMatcher) itemEnds(c string, ti int) []int {
	var out []int
	// `!`: one character not in the set.
	if strings.HasPrefix(c, "!") {
		set := []rune(c[1:])
		if ti < len(r.t) && !refInSet(set, r.t[ti]) {
			out = append(out, ti+1)
		}
		return out
	}
	// Numeric range a-b, a < b: a decimal number without leading zeros.
	if m := refNumRange.FindStringSubmatch(c); m != nil {
		a, _ := new(big.Int).SetString(m[1], 10)
		b, _ := new(big.Int).SetString(m[2], 10)
		if a.Cmp(b) < 0 {
			for k := ti + 1; k <= len(r.t); k++ {
				num := string(r.t[ti:k])
				if !refCanonNum.MatchString(num) {
					continue
				}
				v, _ := new(big.Int).SetString(num, 10)
				if v.Cmp(a) >= 0 && v.Cmp(b) <= 0 {
					out = append(out, k)
				}
			}
			return out
		}
	}
	// Letter range x-y: single letters of the same case, x < y.
	if rs := []rune(c); len(rs) == 3 && rs[1] == '-' && unicode.IsLetter(rs[0]) && unicode.IsLetter(rs[2]) &&
		unicode.IsLower(rs[0]) == unicode.IsLower(rs[2]) && unicode.IsUpper(rs[0]) == unicode.IsUpper(rs[2]) && rs[0] < rs[2] {
		if ti < len(r.t) && r.t[ti] >= rs[0] && r.t[ti] <= rs[2] {
			out = append(out, ti+1)
		}
		return out
	}
	// A word: literal, with `*` and `?` wildcards.
	w := []rune(c)
	for k := ti; k <= len(r.t); k++ {
		if refGlob(w, r.t[ti:k]) {
			out = append(out, k)
		}
	}
	return out
}

// refInSet: the set of a negated class; `x-y` is a code-point range, a
// reversed range contributes nothing.
func refInSet(set []rune, c rune) bool {
	for i := 0; i < len(set); {
		if i+2 < len(set) && set[i+1] == '-' {
			if set[i] <= c && c <= set[i+2] {
				return true
			}
			i += 3
			continue
		}
		if set[i] == c {
			return true
		}
		i++
	}
	return false
}

func refGlob(w, t []rune) bool {
	if len(w) == 0 {
		return len(t) == 0
	}
	switch w[0] {
	case '*':
		for k := 0; k <= len(t); k++ {
			if refGlob(w[1:], t[k:]) {
				return true
			}
		}
		return false
	case '?':
		return len(t) > 0 && refGlob(w[1:], t[1:])
	}
	return len(t) > 0 && t[0] == w[0] && refGlob(w[1:], t[1:])
}

// gen draws random expressions from the grammar together with a value
// that probably matches.
type gen struct {
	r       *rand.Rand
	numeric bool // only numeric pieces: digits, numeric ranges, lists of those
}

const genChars = "ab1209-.平台 ,!]xA"

func (g *gen) pick(s string) string {
	rs := []rune(s)
	return string(rs[g.r.Intn(len(rs))])
}

func (g *gen) chars(alphabet string, max int) string {
	var sb strings.Builder
	for n := g.r.Intn(max + 1); n > 0; n-- {
		sb.WriteString(g.pick(alphabet))
	}
	return sb.String()
}

func (g *gen) number() string {
	switch g.r.Intn(6) {
	case 0:
		return strconv.Itoa(g.r.Intn(10))
	case 1:
		return strings.Repeat("0", g.r.Intn(3)) + strconv.Itoa(g.r.Intn(150))
	case 2:
		return "9223372036854775" + strconv.Itoa(800+g.r.Intn(20))
	case 3:
		return "1" + strings.Repeat("0", 18+g.r.Intn(3))
	default:
		return strconv.Itoa(g.r.Intn(150))
	}
}

// numRangeText is a random range `a-b` and a number probably inside.
func (g *gen) numRangeText() (string, string) {
	a, b := g.number(), g.number()
	ai, _ := new(big.Int).SetString(a, 10)
	bi, _ := new(big.Int).SetString(b, 10)
	if ai.Cmp(bi) < 0 {
		d := new(big.Int).Sub(bi, ai)
		d.Add(d, big.NewInt(1))
		v := new(big.Int).Rand(g.r, d)
		v.Add(v, ai)
		return a + "-" + b, v.String()
	}
	return a + "-" + b, a + "-" + b
}

// item is one group content or list alternative.
func (g *gen) item(inList bool) (string, string) {
	if g.numeric {
		if g.r.Intn(2) == 0 {
			return g.numRangeText()
		}
		n := g.number()
		return n, n
	}
	switch g.r.Intn(6) {
	case 0:
		return g.numRangeText()
	case 1:
		x, y := g.pick("abcxzAZ平台α"), g.pick("abcxzAZ平台γ")
		return x + "-" + y, x
	case 2:
		set := g.chars("abc-1平 ,", 4)
		if inList {
			set = strings.ReplaceAll(set, ",", "")
		}
		return "!" + set, g.pick("abcd平-")
	default:
		w := g.chars("ab1-平 *?[x!", 3)
		if inList {
			w = strings.TrimLeft(w, "!")
		} else if strings.HasPrefix(w, "!") || strings.Contains(w, ",") {
			w = "w" + w
		}
		return w, strings.NewReplacer("*", "", "?", "q").Replace(strings.TrimSpace(w))
	}
}

// piece is one element of an expression and a value it probably matches.
func (g *gen) piece() (string, string) {
	if g.numeric {
		if g.r.Intn(3) == 0 {
			d := strconv.Itoa(g.r.Intn(30))
			return d, d
		}
	}
	switch n := g.r.Intn(10); {
	case n < 3 && !g.numeric:
		s := g.chars(genChars, 3)
		return s, s
	case n == 3 && !g.numeric:
		return "*", g.chars(genChars, 3)
	case n == 4 && !g.numeric:
		return "?", g.pick(genChars)
	case n < 7:
		return g.group()
	default:
		return g.list()
	}
}

func (g *gen) group() (string, string) {
	c, v := g.item(false)
	return "[" + c + "]", v
}

func (g *gen) list() (string, string) {
	k := 2 + g.r.Intn(3)
	var parts []string
	var vals []string
	for i := 0; i < k; i++ {
		c, v := g.item(true)
		sp := strings.Repeat(" ", g.r.Intn(3))
		parts = append(parts, sp+c+strings.Repeat(" ", g.r.Intn(2)))
		vals = append(vals, v)
	}
	return "[" + strings.Join(parts, ",") + "]", vals[g.r.Intn(len(vals))]
}

func (g *gen) expr() (string, string) {
	var e, v strings.Builder
	for n := 1 + g.r.Intn(4); n > 0; n-- {
		pe, pv := g.piece()
		e.WriteString(pe)
		v.WriteString(pv)
	}
	return e.String(), v.String()
}

// mutate changes a value a little: insert, delete or replace a character.
func (g *gen) mutate(s string) string {
	rs := []rune(s)
	switch g.r.Intn(3) {
	case 0:
		i := g.r.Intn(len(rs) + 1)
		rs = append(rs[:i], append([]rune(g.pick(genChars+"0123456789")), rs[i:]...)...)
	case 1:
		if len(rs) > 0 {
			i := g.r.Intn(len(rs))
			rs = append(rs[:i], rs[i+1:]...)
		}
	default:
		if len(rs) > 0 {
			rs[g.r.Intn(len(rs))] = []rune(g.pick(genChars + "0123456789"))[0]
		}
	}
	return string(rs)
}

func (g *gen) values(sample string) []string {
	vals := []string{sample, g.mutate(sample), g.mutate(g.mutate(sample)), g.chars(genChars, 6), ""}
	if g.numeric {
		vals = append(vals, strconv.Itoa(g.r.Intn(3000)), "0"+sample, "-"+sample)
	}
	return vals
}

// TestProperty checks the compiled matcher against the reference matcher
// on random expressions and values, and checks the claims of MatchesAll,
// Literals, Prefix, Suffix and IntRanges against Match.
func TestProperty(t *testing.T) {
	r := rand.New(rand.NewSource(20240601))
	iters := 6000
	if testing.Short() {
		iters = 1000
	}
	for i := 0; i < iters; i++ {
		g := &gen{r: r, numeric: i%3 == 0}
		e, sample := g.expr()
		p, err := Parse(e)
		if err != nil {
			t.Fatalf("Parse(%q): %v", e, err)
		}
		lits, litsOK := p.Literals()
		litSet := map[string]bool{}
		for _, l := range lits {
			litSet[l] = true
			if !p.Match(l) {
				t.Errorf("Parse(%q): literal %q does not match", e, l)
			}
			if !strings.HasPrefix(l, p.Prefix()) || !strings.HasSuffix(l, p.Suffix()) {
				t.Errorf("Parse(%q): literal %q lacks prefix %q / suffix %q", e, l, p.Prefix(), p.Suffix())
			}
		}
		ranges, rangesOK := p.IntRanges()
		for _, v := range g.values(sample) {
			got := p.Match(v)
			want, _ := refMatch(e, v)
			if got != want {
				t.Fatalf("Parse(%q).Match(%q) = %v, reference says %v", e, v, got, want)
			}
			if sim := p.simulate(v); sim != want {
				t.Fatalf("Parse(%q).simulate(%q) = %v, reference says %v", e, v, sim, want)
			}
			if p.MatchesAll() && !got {
				t.Errorf("Parse(%q).MatchesAll() but %q does not match", e, v)
			}
			if got && (!strings.HasPrefix(v, p.Prefix()) || !strings.HasSuffix(v, p.Suffix())) {
				t.Errorf("Parse(%q) matches %q without prefix %q / suffix %q", e, v, p.Prefix(), p.Suffix())
			}
			for _, set := range p.altPieces(1) {
				if got && !slices.ContainsFunc(set, func(alt string) bool { return strings.Contains(v, alt) }) {
					t.Errorf("Parse(%q) matches %q, which holds none of %q", e, v, set)
				}
			}
			if litsOK && got != litSet[v] {
				t.Errorf("Parse(%q).Literals() = %q disagrees with Match(%q) = %v", e, lits, v, got)
			}
			if rangesOK && got {
				n, isInt, fits := refDecimal(v)
				if !isInt || (fits && !inRanges(ranges, n)) {
					t.Errorf("Parse(%q).IntRanges() = %v, but it matches %q", e, ranges, v)
				}
			}
		}
		if rangesOK {
			checkIntRanges(t, r, e, p, ranges)
		}
	}
}

// checkIntRanges probes int64 values around and inside the claimed ranges.
func checkIntRanges(t *testing.T, r *rand.Rand, e string, p *Pattern, ranges []IntRange) {
	probe := []int64{0, 1, -1, math.MaxInt64, math.MinInt64}
	for _, rg := range ranges {
		probe = append(probe, rg.Lo, rg.Hi, rg.Lo-1, rg.Hi+1)
		if rg.Hi > rg.Lo {
			probe = append(probe, rg.Lo+r.Int63n(rg.Hi-rg.Lo))
		}
	}
	for i := 0; i < 20; i++ {
		probe = append(probe, r.Int63n(3000)-100)
	}
	for _, v := range probe {
		s := strconv.FormatInt(v, 10)
		if got, want := p.Match(s), inRanges(ranges, v); got != want {
			t.Errorf("Parse(%q): Match(%s) = %v but IntRanges %v says %v", e, s, got, ranges, want)
		}
	}
	for i := 1; i < len(ranges); i++ {
		if ranges[i].Lo <= ranges[i-1].Hi+1 || ranges[i].Lo > ranges[i].Hi {
			t.Errorf("Parse(%q).IntRanges() = %v: not sorted, disjoint, non-adjacent", e, ranges)
		}
	}
}

func inRanges(rs []IntRange, v int64) bool {
	for _, r := range rs {
		if r.Lo <= v && v <= r.Hi {
			return true
		}
	}
	return false
}

func refDecimal(s string) (int64, bool, bool) {
	if !refCanonInt.MatchString(s) {
		return 0, false, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return v, true, err == nil
}
