package expr

import (
	"errors"
	"strings"
	"testing"
)

// TestMatchCostRepetition checks the two skips of the simulation: a run of
// equal nodes that leaves the position set unchanged costs one node, and
// nullable nodes after the set holds every position cost nothing, so a
// repeated group costs what the value's length allows, not what the
// pattern's length does.
func TestMatchCostRepetition(t *testing.T) {
	val := "10.0.1.2_gse_agent" // 18 bytes, no x
	cases := []struct {
		name, expr, s string
		want          bool
		maxSteps      int
	}{
		// Without the skips: 128 nodes × 19 positions, over 2,400 steps.
		{"saturates", strings.Repeat("[,!x]", 128), val, true, 600},
		{"saturates, two nodes alternating", strings.Repeat("[,!x][,!y]", 64), val, true, 600},
		{"fixed point", strings.Repeat("[,!x]", 128), strings.Repeat("x", 18), false, 10},
		{"star alternatives", strings.Repeat("[a,*]", 80), val, true, 60},
		{"too short dies early", strings.Repeat("?", 200), val, false, 600},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Parse(c.expr)
			if err != nil {
				t.Fatal(err)
			}
			ok, steps := simulate(newProg(p.seq), c.s)
			if ok != c.want || ok != p.Match(c.s) {
				t.Fatalf("match %v, Match %v, want %v", ok, p.Match(c.s), c.want)
			}
			if steps > c.maxSteps {
				t.Errorf("%d steps, want at most %d", steps, c.maxSteps)
			}
		})
	}
}

// TestElementLimit checks the bound on an expression's elements and that
// its error names the count and the limit.
func TestElementLimit(t *testing.T) {
	cases := []struct {
		expr     string
		elements int // 0: accepted; else more than MaxElements
	}{
		{strings.Repeat("?", MaxElements), 0},
		{strings.Repeat("?", MaxElements+1), MaxElements + 1},
		{strings.Repeat("[,!x]", MaxElements/2), 0},     // alternative + class each
		{strings.Repeat("[,!x]", 1000), 2000},           // issue 15's example
		{"[" + strings.Repeat("a,", 300) + "b]", 0},     // repeated alternatives are dropped
		{"[" + strings.Repeat("a?,", 200) + "b]", 0},    // likewise: a?, b
		{strings.Repeat("?", MaxElements+10) + "[", -1}, // the syntax error wins
		{strings.Repeat("x", 1<<20), 0},                 // one long word is one element
		{"[" + numbers(300) + "]", 1 + 300},             // 300 alternatives
		{strings.Repeat("[,0-9]", 30000), 60000},        // 180 KB
		{strings.Repeat("*?", 50000), 100000},           // stars and ? alternate
	}
	for _, c := range cases {
		_, err := Parse(c.expr)
		var le *LimitError
		var se *SyntaxError
		switch {
		case c.elements < 0 && !errors.As(err, &se):
			t.Errorf("Parse(%.40q...) = %v, want a syntax error", c.expr, err)
		case c.elements == 0 && err != nil:
			t.Errorf("Parse(%.40q...) = %v, want success", c.expr, err)
		case c.elements > MaxElements && !errors.As(err, &le):
			t.Errorf("Parse(%.40q...) = %v, want a limit error (%d elements)", c.expr, err, c.elements)
		case c.elements > MaxElements && !strings.Contains(err.Error(), "limit of 256"):
			t.Errorf("message %q does not name the limit", err)
		}
	}
}

func numbers(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strings.Repeat("1", i+1))
	}
	return b.String()
}
