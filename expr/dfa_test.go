package expr

import (
	"fmt"
	"math/rand"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// dfaAgrees checks, for one pattern and value, that the automaton of the
// whole sequence and Match both answer as the simulation does. It returns
// whether the automaton decided.
func dfaAgrees(t *testing.T, e string, p *Pattern, d *dfa, s string) bool {
	t.Helper()
	want := p.simulate(s)
	got, decided := d.match(s)
	if decided && got != want {
		t.Fatalf("Parse(%q): automaton on %q = %v, simulate = %v", e, s, got, want)
	}
	if m := p.Match(s); m != want {
		t.Fatalf("Parse(%q).Match(%q) = %v, simulate = %v", e, s, m, want)
	}
	return decided
}

// randValue draws a value: ASCII from the pattern alphabet, digit runs
// with separators (for numeric ranges), or text with multi-byte and
// invalid UTF-8.
func randValue(r *rand.Rand) string {
	var sb strings.Builder
	n := r.Intn(14)
	switch r.Intn(4) {
	case 0:
		for range n {
			sb.WriteByte("ab1209-.xA_ ,!]q"[r.Intn(16)])
		}
	case 1:
		for range n + 1 {
			if r.Intn(6) == 0 {
				sb.WriteByte(".a-_"[r.Intn(4)])
			} else {
				sb.WriteByte(byte('0' + r.Intn(10)))
			}
		}
	case 2:
		for range n {
			sb.WriteString([]string{"a", "1", "0", "平", "\xff", "\xe5\xb9", "-", "x"}[r.Intn(8)])
		}
	default:
		sb.WriteString(strconv.Itoa(r.Intn(3000)))
	}
	return sb.String()
}

// TestDFAAgainstSimulate compares the automaton with the simulation on
// random expressions of the property test's grammar and random values,
// ASCII and not, with and without numeric ranges.
func TestDFAAgainstSimulate(t *testing.T) {
	r := rand.New(rand.NewSource(20261202))
	iters := 4000
	if testing.Short() {
		iters = 800
	}
	decided, total := 0, 0
	for i := range iters {
		g := &gen{r: r, numeric: i%3 == 0}
		e, sample := g.expr()
		p, err := Parse(e)
		if err != nil {
			t.Fatalf("Parse(%q): %v", e, err)
		}
		d := newDFA(p.seq)
		vals := g.values(sample)
		for range 12 {
			vals = append(vals, randValue(r))
		}
		for _, v := range vals {
			total++
			if dfaAgrees(t, e, p, d, v) {
				decided++
			}
		}
	}
	t.Logf("the automaton decided %d of %d values", decided, total)
	// The test must exercise the automaton, not only the fallback.
	if decided < total/2 {
		t.Fatalf("the automaton decided %d of %d values", decided, total)
	}
}

// TestDFANumericRanges compares the automaton with numOK, the rule of a
// numeric range, on every number up to 3,000 written with and without
// leading zeros, for ranges whose bounds differ in length and digits.
func TestDFANumericRanges(t *testing.T) {
	bounds := [][2]string{
		{"0", "1"}, {"0", "9"}, {"0", "10"}, {"1", "9"}, {"1", "255"}, {"0", "255"}, {"7", "70"},
		{"10", "99"}, {"19", "21"}, {"99", "100"}, {"100", "999"}, {"123", "1234"}, {"250", "2600"},
		{"1", "1000000000"}, {"999", "1001"}, {"5", "5000"},
	}
	for _, b := range bounds {
		e := "[" + b[0] + "-" + b[1] + "]"
		seq := []node{{kind: kNum, lo: b[0], hi: b[1]}}
		d := newDFA(seq)
		for v := range 3000 {
			for _, s := range []string{strconv.Itoa(v), "0" + strconv.Itoa(v), "00" + strconv.Itoa(v)} {
				want := numOK(s, b[0], b[1])
				if got, decided := d.match(s); !decided || got != want {
					t.Fatalf("%s on %q: automaton %v (decided %v), want %v", e, s, got, decided, want)
				}
			}
		}
		for _, s := range []string{"", "-1", "1a", "a1", b[0] + "0", b[1] + "0", b[1] + "x"} {
			want := s != "" && numOK(s, b[0], b[1])
			if got, _ := d.match(s); got != want {
				t.Fatalf("%s on %q: automaton %v, want %v", e, s, got, want)
			}
		}
	}
}

// moduleNames are module-like names: words, digits and separators.
func moduleNames(r *rand.Rand, n int) []string {
	words := []string{"gse", "nginx", "redis", "mysql", "zone", "db", "cluster", "job", "x", "bk"}
	out := make([]string, n)
	for i := range out {
		var sb strings.Builder
		for k := 1 + r.Intn(3); k > 0; k-- {
			sb.WriteString(words[r.Intn(len(words))])
			if r.Intn(2) == 0 {
				sb.WriteString(strconv.Itoa(r.Intn(40)))
			}
			if k > 1 {
				sb.WriteByte("_-."[r.Intn(3)])
			}
		}
		out[i] = sb.String()
	}
	return out
}

// TestDFAServiceNames runs the suite's and the engine benchmark's general
// patterns over generated service-instance and module names, with small
// mutations, and checks that the automaton answers every ASCII one.
func TestDFAServiceNames(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	g := &gen{r: r}
	names := append(serviceNames(3000), moduleNames(r, 2000)...)
	for i := range 2000 {
		names = append(names, g.mutate(names[i]), g.mutate(names[3000+i]))
	}
	names = append(names, "10.0.3.17_gse_agent", "256.0.0.1_gse_ab", "1.2.3.4_redis-xyz", "01.2.3.4_gse_abc",
		"1.2.3.255_nginx_ab-", "1.2.3.256_nginx_ab-", "1.2.3.4_gse_平台", "abc12x", "ab1")
	for _, e := range []string{
		suiteTenGroups, tenGroups,
		"[10, 127, 172].[0-255].[0-255].[1-254]_[gse, bk][_, -][a-z][!x]*[a-z, 0-9]*[1-65535, 80]",
		"[a-z][a-z,1][a-z,2][a-z,3]*[a-z,4]*[!x][a,b,c,d]*[e-z]*[1-9,n]*[a-z]",
		"[1-1000000000]*", "*.14*_gse*", "*[0-9]_[a-z]*",
	} {
		p, err := Parse(e)
		if err != nil {
			t.Fatal(err)
		}
		d := newDFA(p.seq)
		for _, s := range names {
			ascii := strings.IndexFunc(s, func(c rune) bool { return c >= 0x80 }) < 0
			if decided := dfaAgrees(t, e, p, d, s); ascii && !decided {
				t.Fatalf("Parse(%q): automaton undecided on ASCII %q", e, s)
			}
		}
	}
}

// TestDFABounds checks the automaton's bounds on hostile patterns: a body
// too big for the nondeterministic automaton is simulated, and one whose
// deterministic automaton would be exponential stops at maxDFAStates and
// still answers right by simulating.
func TestDFABounds(t *testing.T) {
	cases := []struct {
		name, expr string
		simulated  bool // the automaton cannot be built at all
	}{
		{"long literal", "?" + strings.Repeat("ab", maxNFAStates) + "?", true},
		{"long bound", "?[1-" + strings.Repeat("9", maxNFAStates/8) + "]", true},
		{"exponential", "*a" + strings.Repeat("?", 14), false},
		{"stars and anys", strings.Repeat("*?", 120), false},
		{"nullable groups", strings.Repeat("[,!x]", 128), false},
		{"alternatives", strings.Repeat("[a,b,ab,?]", 50), false},
		{"many classes", "*" + manyClasses(120) + "*", false},
		{"long runs", "*" + strings.Repeat("a", maxNFAStates-10) + "*", false},
	}
	r := rand.New(rand.NewSource(3))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Parse(c.expr)
			if err != nil {
				t.Fatal(err)
			}
			d := newDFA(p.seq)
			if got := d.start == cellNone; got != c.simulated {
				t.Fatalf("automaton absent %v, want %v", got, c.simulated)
			}
			dfaAgrees(t, c.expr, p, d, strings.Repeat("a", maxNFAStates))
			for i := range 400 {
				var sb strings.Builder
				for k := r.Intn(40 + i); k > 0; k-- {
					if i%2 == 0 {
						sb.WriteByte("abx9"[r.Intn(4)])
					} else {
						sb.WriteByte(byte(r.Intn(0x80)))
					}
				}
				dfaAgrees(t, c.expr, p, d, sb.String())
			}
			checkDFABounds(t, d)
		})
	}
	p, _ := Parse("*a" + strings.Repeat("?", 14))
	d := newDFA(p.seq)
	ab := strings.NewReplacer("0", "a", "1", "b")
	for i := range 1 << 16 {
		d.match(ab.Replace(fmt.Sprintf("%016b", i)))
	}
	if !d.full.Load() || len(d.byKey) != maxDFAStates {
		t.Fatalf("exponential automaton: full %v with %d states, want the bound %d", d.full.Load(), len(d.byKey), maxDFAStates)
	}
}

// checkDFABounds fails when d holds more states, a bigger table or took
// more steps of building than its bounds allow; one build may overshoot
// the work bound by a closure and a state.
func checkDFABounds(t *testing.T, d *dfa) {
	t.Helper()
	if len(d.byKey) > maxDFAStates || len(d.nfa) > maxNFAStates {
		t.Fatalf("%d states over %d nondeterministic ones, bounds %d and %d", len(d.byKey), len(d.nfa), maxDFAStates, maxNFAStates)
	}
	if tab := d.table.Load(); tab != nil && len(*tab) > (maxDFAStates+1)*rowWidth {
		t.Fatalf("table of %d cells, bound %d", len(*tab), (maxDFAStates+1)*rowWidth)
	}
	if limit := maxDFAWork + len(d.nfa) + 128; d.work > limit {
		t.Fatalf("%d steps of building, bound %d", d.work, limit)
	}
}

// manyClasses is n negated classes of distinct bytes: as many byte
// classes, and sets of states that grow with every byte.
func manyClasses(n int) string {
	var sb strings.Builder
	for i := range n {
		fmt.Fprintf(&sb, "[!%c]", byte(' '+1+i%90))
	}
	return sb.String()
}

// TestDFAConcurrent matches from several goroutines at once while the
// automaton is being built (run with -race).
func TestDFAConcurrent(t *testing.T) {
	names := serviceNames(4000)
	p, err := Parse(suiteTenGroups)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]bool, len(names))
	for i, s := range names {
		want[i] = p.simulate(s)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for k := range 4 {
		wg.Go(func() {
			for i := range names {
				j := (i + k*997) % len(names)
				if p.Match(names[j]) != want[j] {
					errs <- names[j]
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for s := range errs {
		t.Errorf("Match(%q) != simulate", s)
	}
}

// FuzzDFA compares the automaton of the whole sequence, and Match, with
// the simulation on arbitrary expressions and values, and checks that
// building stays within the automaton's bounds.
func FuzzDFA(f *testing.F) {
	for _, r := range matchTable {
		f.Add(r.expr, r.s)
	}
	f.Add(suiteTenGroups, "10.0.3.17_gse_agent")
	f.Add("[0-255]x[7-1234]", "0x1234")
	f.Add("*[1-65535, 80]", "a65536")
	f.Fuzz(func(t *testing.T, e, s string) {
		p, err := Parse(e)
		if err != nil {
			return
		}
		d := newDFA(p.seq)
		dfaAgrees(t, e, p, d, s)
		checkDFABounds(t, d)
	})
}
