package index

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestContainingAgainstContains: for dictionaries of address-like terms,
// built in memory, Containing of every one- and
// two-byte fragment over the bytes the terms hold (and one they do not),
// and of three-byte ones, is exactly the terms strings.Contains finds.
func TestContainingAgainstContains(t *testing.T) {
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
	for _, frag := range append(frags, "123", "0.1") {
		ids, exact, ok := built.Containing(frag)
		if !ok || !exact {
			t.Fatalf("Containing(%q): exact %v, ok %v, want both for a dictionary of %d bytes", frag, exact, ok, len(alpha))
		}
		var want []uint32
		for id := range uint32(built.Len()) {
			if strings.Contains(built.Term(id), frag) {
				want = append(want, id)
			}
		}
		if !slices.Equal(ids, want) {
			t.Fatalf("Containing(%q): %d terms, want %d", frag, len(ids), len(want))
		}
	}
	if _, exact, _ := built.Containing("1234"); exact {
		t.Error("Containing of four bytes says its candidates are exact")
	}
	wide := buildStrTerms(1, func(int) string { return "abcdefghijklmnopq" }, false)
	if _, _, ok := wide.Containing("a"); ok {
		t.Error("Containing narrowed one byte in a dictionary of 17 distinct bytes")
	}
}

// TestContainingBitsAgainstContains: for a dictionary of addresses, where
// some trigrams ("10.", "192") are held by many terms, ContainingBits and
// Containing of every fragment of up to three bytes over its alphabet are
// exactly the terms strings.Contains finds, and the common trigrams have
// bitsets.
func TestContainingBitsAgainstContains(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	values := make([]string, 4000)
	for i := range values {
		pre := []string{"10.", "192.168.", "172.16."}[rng.IntN(3)]
		values[i] = fmt.Sprintf("%s%d.%d.%d", pre, rng.IntN(256), rng.IntN(256), rng.IntN(256))
		if pre != "10." {
			values[i] = fmt.Sprintf("%s%d.%d", pre, rng.IntN(256), rng.IntN(256))
		}
	}
	d := buildStrTerms(len(values), func(row int) string { return values[row] }, false)
	const alpha = "0123456789.x"
	frags := []string{""}
	for n := 0; n < len(frags) && len(frags[n]) < 3; n++ {
		for i := range len(alpha) {
			frags = append(frags, frags[n]+alpha[i:i+1])
		}
	}
	frags = frags[1:]
	dense := 0
	for _, frag := range frags {
		var want []uint32
		for id := range uint32(d.Len()) {
			if strings.Contains(d.Term(id), frag) {
				want = append(want, id)
			}
		}
		ids, exact, ok := d.Containing(frag)
		if !ok || !exact || !slices.Equal(ids, want) {
			t.Fatalf("Containing(%q): %d terms (exact %v, ok %v), want %d", frag, len(ids), exact, ok, len(want))
		}
		bits, ok := d.ContainingBits(frag)
		if !ok {
			if len(frag) < 3 || len(want)*denseTrigram >= d.Len() {
				t.Fatalf("ContainingBits(%q): no bitset for %d of %d terms", frag, len(want), d.Len())
			}
			continue
		}
		if len(frag) == 3 {
			dense++
		}
		if got := AppendSetBits(nil, bits); !slices.Equal(got, want) {
			t.Fatalf("ContainingBits(%q): %d terms, want %d", frag, len(got), len(want))
		}
	}
	if dense == 0 {
		t.Fatal("no trigram has a bitset")
	}
	// Longer fragments, from the terms themselves: Containing's ids are
	// a superset of the terms holding them, and ascend.
	for i := range 300 {
		v := values[rng.IntN(len(values))]
		lo := rng.IntN(len(v) - 3)
		frag := v[lo : lo+4+rng.IntN(len(v)-lo-3)]
		if i%10 == 0 {
			frag += "9" // often held by no term
		}
		ids, exact, ok := d.Containing(frag)
		if !ok || exact || !slices.IsSorted(ids) {
			t.Fatalf("Containing(%q): ok %v, exact %v, sorted %v; want a sorted superset", frag, ok, exact, slices.IsSorted(ids))
		}
		for id := range uint32(d.Len()) {
			if _, found := slices.BinarySearch(ids, id); strings.Contains(d.Term(id), frag) && !found {
				t.Fatalf("Containing(%q) misses %q", frag, d.Term(id))
			}
		}
	}
}

// TestContainingAfterLoad: an index read back from its image builds the
// same short grams in the background as Build does.
func TestContainingAfterLoad(t *testing.T) {
	built, read := builtAndRead(t, 5000, 4)
	for _, frag := range []string{"1", "0", ".", "10", ".1", "99", "x", "10.", "192", ".16"} {
		a, exactA, _ := built.InnerIP.Containing(frag)
		b, exactB, _ := read.InnerIP.Containing(frag)
		if !exactA || !exactB || !slices.Equal(a, b) {
			t.Fatalf("Containing(%q): built %d (exact %v), read back %d (exact %v)", frag, len(a), exactA, len(b), exactB)
		}
	}
}
