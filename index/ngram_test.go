package index

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestCandidatesNeverDropATerm compares Candidates with a scan of the whole
// dictionary on random dictionaries and pieces, multi-byte UTF-8
// included: every term holding every piece must be a candidate.
func TestCandidatesNeverDropATerm(t *testing.T) {
	alphabets := []string{"ab.", "0123456789.", "云区域a-", "xyzé_"}
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 3))
		alpha := []rune(alphabets[seed%uint64(len(alphabets))])
		word := func(n int) string {
			var b strings.Builder
			for range n {
				b.WriteRune(alpha[rng.IntN(len(alpha))])
			}
			return b.String()
		}
		var values []string
		for range rng.IntN(300) + 1 {
			values = append(values, word(rng.IntN(12)))
		}
		d := buildStrTerms(len(values), func(i int) string { return values[i] }, false)
		for range 50 {
			pieces := []string{word(rng.IntN(5))}
			if rng.IntN(3) == 0 {
				pieces = append(pieces, word(rng.IntN(5)))
			}
			if rng.IntN(4) == 0 { // a fragment cut inside a character
				w := word(3)
				pieces[0] = w[1:]
			}
			ids, ok := d.Candidates(pieces...)
			n, okCount := d.CandidateCount(pieces...)
			if ok != okCount || n != len(ids) {
				t.Fatalf("CandidateCount(%q) = %d, %v; Candidates has %d, %v", pieces, n, okCount, len(ids), ok)
			}
			long := slices.ContainsFunc(pieces, func(p string) bool { return len(p) >= 3 })
			if ok != long {
				t.Fatalf("Candidates(%q) narrows = %v, want %v", pieces, ok, long)
			}
			if !slices.IsSorted(ids) {
				t.Fatalf("Candidates(%q) = %v, not ascending", pieces, ids)
			}
			for id := range uint32(d.Len()) {
				term := d.Term(id)
				holds := !slices.ContainsFunc(pieces, func(p string) bool { return !strings.Contains(term, p) })
				if holds && ok {
					if _, found := slices.BinarySearch(ids, id); !found {
						t.Fatalf("seed %d: term %q holds %q but is no candidate (%v)", seed, term, pieces, ids)
					}
				}
			}
		}
	}
}

func TestCandidatesNarrow(t *testing.T) {
	values := []string{"10.0.0.1", "10.0.1.40", "10.1.140.2", "192.168.1.1", "云区域A", "default area"}
	d := buildStrTerms(len(values), func(i int) string { return values[i] }, false)
	tests := []struct {
		pieces []string
		want   []string
		ok     bool
	}{
		{[]string{"140"}, []string{"10.1.140.2"}, true},
		{[]string{"区域"}, []string{"云区域A"}, true},
		{[]string{"area"}, []string{"default area"}, true},
		{[]string{"zzz"}, nil, true},
		{[]string{"10"}, nil, false},
		{[]string{"10", "168"}, []string{"192.168.1.1"}, true},
	}
	for _, tt := range tests {
		ids, ok := d.Candidates(tt.pieces...)
		var got []string
		for _, id := range ids {
			got = append(got, d.Term(id))
		}
		if ok != tt.ok || !slices.Equal(got, tt.want) {
			t.Errorf("Candidates(%q) = %q, %v; want %q, %v", tt.pieces, got, ok, tt.want, tt.ok)
		}
	}
}
