package index

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/procq/procq/internal/synth"
)

// TestShortTermsAgainstContains: for dictionaries of address-like terms,
// built and read back from an image, ShortTerms of every one- and
// two-byte fragment over the bytes the terms hold (and one they do not)
// is exactly the terms strings.Contains finds.
func TestShortTermsAgainstContains(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	const alpha = "0123456789."
	values := make([]string, 3000)
	for i := range values {
		b := make([]byte, 1+rng.IntN(15))
		for j := range b {
			b[j] = alpha[rng.IntN(len(alpha))]
		}
		values[i] = string(b)
	}
	built := buildStrTerms(len(values), func(row int) string { return values[row] }, false)
	frags := []string{"x", "1x"}
	for i := range len(alpha) {
		frags = append(frags, alpha[i:i+1])
		for j := range len(alpha) {
			frags = append(frags, alpha[i:i+1]+alpha[j:j+1])
		}
	}
	for _, frag := range frags {
		set, ok := built.ShortTerms(frag)
		if !ok {
			t.Fatalf("ShortTerms(%q): not kept for a dictionary of %d bytes", frag, len(alpha))
		}
		for id := range uint32(built.Len()) {
			got := set != nil && set[id>>6]&(1<<(id&63)) != 0
			if want := strings.Contains(built.Term(id), frag); got != want {
				t.Fatalf("ShortTerms(%q): term %q is %v, want %v", frag, built.Term(id), got, want)
			}
		}
	}
	if _, ok := built.ShortTerms("123"); ok {
		t.Error("ShortTerms of three bytes answered")
	}
	wide := buildStrTerms(1, func(int) string { return "abcdefghijklmnopq" }, false)
	if _, ok := wide.ShortTerms("a"); ok {
		t.Error("ShortTerms answered for a dictionary of 17 distinct bytes")
	}
}

// TestShortTermsAfterLoad: an index read back from its image builds the
// same short grams in the background as Build does.
func TestShortTermsAfterLoad(t *testing.T) {
	recs, err := synth.Collect(synth.Options{Processes: 5000, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	built := Build(recs)
	read, err := ReadImage(imageOf(t, built))
	if err != nil {
		t.Fatal(err)
	}
	for _, frag := range []string{"1", "0", ".", "10", ".1", "99", "x"} {
		a, okA := built.InnerIP.ShortTerms(frag)
		b, okB := read.InnerIP.ShortTerms(frag)
		if !okA || !okB || !slices.Equal(a, b) {
			t.Fatalf("ShortTerms(%q): built %v (%v), read back %v (%v)", frag, len(a), okA, len(b), okB)
		}
	}
}
