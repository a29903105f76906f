package expr

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzMatch parses and matches arbitrary input: no panic, no hang, and,
// for small valid UTF-8 inputs, agreement with the reference matcher and
// with the pattern's own claims.
func FuzzMatch(f *testing.F) {
	for _, r := range matchTable {
		f.Add(r.expr, r.s)
	}
	f.Add("[12", "12")
	f.Add("[1-1000000000][a,b]*[!x]?", "12a-y")
	f.Fuzz(func(t *testing.T, e, s string) {
		p, err := Parse(e)
		small := utf8.ValidString(e) && utf8.ValidString(s) &&
			utf8.RuneCountInString(e) <= 16 && utf8.RuneCountInString(s) <= 12 && strings.Count(e, "*") <= 4
		if le := (*LimitError)(nil); errors.As(err, &le) {
			if strings.Count(e, "[")+strings.Count(e, "*")+strings.Count(e, "?")+2*strings.Count(e, ",") < MaxElements/3 {
				t.Fatalf("Parse(%q) refused by the element limit", e)
			}
			return
		}
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || !strings.HasPrefix(se.Part, "[") || strings.Contains(se.Part[1:], "]") {
				t.Fatalf("Parse(%q) error %v", e, err)
			}
			if small {
				if _, rerr := refMatch(e, s); rerr == nil {
					t.Fatalf("Parse(%q) fails, the reference parses it", e)
				}
			}
			return
		}
		got := p.Match(s)
		if sim := p.simulate(s); sim != got {
			t.Fatalf("Parse(%q): Match(%q) = %v, simulate = %v", e, s, got, sim)
		}
		if got && (!strings.HasPrefix(s, p.Prefix()) || !strings.HasSuffix(s, p.Suffix())) {
			t.Fatalf("Parse(%q) matches %q without prefix %q / suffix %q", e, s, p.Prefix(), p.Suffix())
		}
		if p.MatchesAll() && !got {
			t.Fatalf("Parse(%q).MatchesAll() but not %q", e, s)
		}
		if lits, ok := p.Literals(); ok {
			in := false
			for _, l := range lits {
				in = in || l == s
			}
			if in != got {
				t.Fatalf("Parse(%q).Literals() = %q disagrees with Match(%q) = %v", e, lits, s, got)
			}
		}
		if small {
			want, rerr := refMatch(e, s)
			if rerr != nil || want != got {
				t.Fatalf("Parse(%q).Match(%q) = %v, reference %v, %v", e, s, got, want, rerr)
			}
		}
	})
}

// costFactor is c in the matching budget c × (len(pattern)+1) ×
// (len(value)+1) steps.
const costFactor = 4

// FuzzMatchCost checks that the simulation, on the whole parsed sequence
// and on what Match simulates, never spends more than the budget: linear
// in pattern length × value length, whatever the shape (no backtracking,
// no expansion of ranges or alternatives).
func FuzzMatchCost(f *testing.F) {
	long := strings.Repeat("10.0.1.2_gse_agent_", 8)
	for _, e := range []string{
		strings.Repeat("[,!x]", 200), strings.Repeat("[,0-9]", 40), strings.Repeat("*?", 100),
		strings.Repeat("[,a][,b]", 60), "[1-1000000000][a,b]*[!x]?", strings.Repeat("[a,?]", 100),
		strings.Repeat("?", 200), "*" + strings.Repeat("[0-9, a-z]", 60) + "*", strings.Repeat("[1-99999]", 30),
	} {
		f.Add(e, long)
		f.Add(e, long[:40])
		f.Add(e, "管控平台"+long)
	}
	f.Fuzz(func(t *testing.T, e, s string) {
		p, err := Parse(e)
		if err != nil {
			return
		}
		budget := costFactor * (len(p.src) + 1) * (len(s) + 1)
		if _, steps := simulate(newProg(p.seq), s); steps > budget {
			t.Fatalf("Parse(%q) on %d bytes: %d steps, budget %d", e, len(s), steps, budget)
		}
		if p.prog != nil && len(s) >= len(p.head)+len(p.tail) {
			if _, steps := simulate(p.prog, s[len(p.head):len(s)-len(p.tail)]); steps > budget {
				t.Fatalf("Parse(%q) body on %d bytes: %d steps, budget %d", e, len(s), steps, budget)
			}
		}
	})
}

// FuzzParseSlice: no panic, and the bounds of a parsed slice are sane.
func FuzzParseSlice(f *testing.F) {
	for _, s := range []string{"[5:17]", "[:-28]", "[: ]", "[5000 :-3]", "[0:3]x", "[1:2:3]", "[1:", "[+3:+5]", "[99999999999999999999:]"} {
		f.Add(s, 10)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		sl, ok, err := ParseSlice(s)
		if err != nil {
			var se *SliceError
			if !ok || !errors.As(err, &se) {
				t.Fatalf("ParseSlice(%q) = %v, %v", s, ok, err)
			}
			return
		}
		if !ok {
			if sl != (Slice{}) {
				t.Fatalf("ParseSlice(%q) not a slice but %+v", s, sl)
			}
			return
		}
		n %= 1 << 20
		start, end := sl.Bounds(n)
		if n < 0 {
			n = 0
		}
		if start < 0 || start > end || end > n {
			t.Fatalf("ParseSlice(%q).Bounds(%d) = %d, %d", s, n, start, end)
		}
	})
}
