package index

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
)

// randomRowTerms returns the term of each of n rows over terms terms:
// runs (span terms), terms of a few scattered rows (listed) and terms of
// many scattered rows (bitmaps), in about equal numbers.
func randomRowTerms(rng *rand.Rand, n, terms int) []uint32 {
	rowTerm := make([]uint32, n)
	for row := 0; row < n; {
		id := uint32(rng.IntN(terms))
		switch id % 3 {
		case 0: // a run of rows
			for k := rng.IntN(40) + 1; k > 0 && row < n; k-- {
				rowTerm[row] = id
				row++
			}
		default: // one row of a scattered term
			rowTerm[row] = id
			row++
		}
	}
	return rowTerm
}

// naiveRows returns the rows of term id.
func naiveRows(rowTerm []uint32, id uint32) []uint32 {
	var rows []uint32
	for row, t := range rowTerm {
		if t == id {
			rows = append(rows, uint32(row))
		}
	}
	return rows
}

// TestPostingsKinds checks every reader of postings against the rows of
// each term counted from the row terms, for spans, lists and bitmaps,
// built and read back from an image.
func TestPostingsKinds(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for round := range 20 {
		n, terms := 200+rng.IntN(5000), 1+rng.IntN(300)
		rowTerm := randomRowTerms(rng, n, terms)
		built := buildPostings(rowTerm, terms)
		w := &imgWriter{}
		w.postings(&built)
		r := &imgReader{b: w.buf}
		read := r.postings(terms, n)
		if r.err != nil {
			t.Fatalf("round %d: reading the image: %v", round, r.err)
		}
		kinds := map[string]int{}
		for name, p := range map[string]*postings{"built": &built, "read": &read} {
			for id := range uint32(terms) {
				want := naiveRows(rowTerm, id)
				kinds[kindOf(p, id)]++
				checkTerm(t, name, p, id, want, n)
			}
			checkUnion(t, name, p, rowTerm, rng)
		}
		if round == 0 && (kinds["span"] == 0 || kinds["list"] == 0 || kinds["bitmap"] == 0) {
			t.Fatalf("kinds of terms %v: want all three", kinds)
		}
	}
}

// kindOf names how p keeps the rows of term id.
func kindOf(p *postings, id uint32) string {
	if _, ok := p.list(id); ok {
		return "list"
	}
	if p.flat(id) {
		return "span"
	}
	return "bitmap"
}

// checkTerm checks the readers of term id of p against want, its rows.
func checkTerm(t *testing.T, name string, p *postings, id uint32, want []uint32, n int) {
	t.Helper()
	if got := p.rows(id).ToArray(); !slices.Equal(got, want) && len(got)+len(want) > 0 {
		t.Fatalf("%s term %d (%s): rows %v, want %v", name, id, kindOf(p, id), got, want)
	}
	if got := p.count(id); got != uint64(len(want)) {
		t.Fatalf("%s term %d (%s): count %d, want %d", name, id, kindOf(p, id), got, len(want))
	}
	if l, ok := p.list(id); ok && (len(l) > listMax || !slices.Equal(l, want)) {
		t.Fatalf("%s term %d: list %v, want %v of at most %d", name, id, l, want, listMax)
	}
	// Word arrays holding every row, and stopping short of some.
	for _, nw := range []int{(n + 63) / 64, n / 128} {
		var below []uint32
		for _, r := range want {
			if int(r) < nw*64 {
				below = append(below, r)
			}
		}
		words := make([]uint64, nw)
		p.orRowsOf(words, []uint32{id})
		if got := roaring.FromDense(words, true).ToArray(); !slices.Equal(got, below) && len(got)+len(below) > 0 {
			t.Fatalf("%s term %d (%s), %d words: orRowsOf %v, want %v", name, id, kindOf(p, id), nw, got, below)
		}
	}
}

// checkUnion checks union and orRowsOf of random sets of terms of p.
func checkUnion(t *testing.T, name string, p *postings, rowTerm []uint32, rng *rand.Rand) {
	t.Helper()
	for range 10 {
		in := map[uint32]bool{}
		var ids []uint32
		for range rng.IntN(20) {
			id := uint32(rng.IntN(len(p.spans)))
			if !in[id] {
				in[id], ids = true, append(ids, id)
			}
		}
		var want []uint32
		for row, id := range rowTerm {
			if in[id] {
				want = append(want, uint32(row))
			}
		}
		if got := p.union(ids).ToArray(); !slices.Equal(got, want) && len(got)+len(want) > 0 {
			t.Fatalf("%s: union of %v: %v, want %v", name, ids, got, want)
		}
		words := make([]uint64, (len(rowTerm)+63)/64)
		p.orRowsOf(words, ids)
		if got := roaring.FromDense(words, true).ToArray(); !slices.Equal(got, want) && len(got)+len(want) > 0 {
			t.Fatalf("%s: orRowsOf %v: %v, want %v", name, ids, got, want)
		}
	}
}

// TestPostingsImageDamage: an image whose lists are out of bounds,
// unsorted or name rows past the end is refused, not read.
func TestPostingsImageDamage(t *testing.T) {
	// Rows 0..9: term 0 at even rows, term 1 at odd rows: two lists.
	rowTerm := []uint32{0, 1, 0, 1, 0, 1, 0, 1, 0, 1}
	good := buildPostings(rowTerm, 2)
	if _, ok := good.list(0); !ok {
		t.Fatal("term 0 is not listed")
	}
	tests := []struct {
		name   string
		damage func(p *postings)
		rows   int
		want   string
	}{
		{"list past the listed rows", func(p *postings) { p.spans[1].Hi = uint32(len(p.lists) + 1) }, 10, "list"},
		{"empty list", func(p *postings) { p.spans[1].Hi = p.spans[1].Lo - listed }, 10, "list"},
		{"rows not ascending", func(p *postings) { p.lists[1], p.lists[2] = p.lists[2], p.lists[1] }, 10, "not ascending"},
		{"row past the rows", func(p *postings) {}, 9, "listed row 9"},
	}
	for _, tt := range tests {
		p := postings{spans: slices.Clone(good.spans), lists: slices.Clone(good.lists)}
		tt.damage(&p)
		w := &imgWriter{}
		w.postings(&p)
		r := &imgReader{b: w.buf}
		r.postings(2, tt.rows)
		if r.err == nil || !strings.Contains(r.err.Error(), tt.want) {
			t.Errorf("%s: err %v, want one saying %q", tt.name, r.err, tt.want)
		}
	}
}

// TestOrSuffixRows checks SuffixRange and OrSuffixRows against the rows
// whose value ends with a suffix, on a dictionary built and read back
// from an image, with span, listed and bitmap terms.
func TestOrSuffixRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	// 60 names over 3,000 rows: scattered names hold about 50 rows
	// (listed), or more when the generator repeats them (bitmaps).
	var names []string
	for i := range 60 {
		names = append(names, string(rune('a'+i%26))+[]string{"_gse_agent", "gse_agent", "_nginx", "_agent", "agent", "x"}[i%6]+strings.Repeat("y", i/26))
	}
	n := 3000
	rowTerm := randomRowTerms(rng, n, len(names))
	value := func(row int) string {
		if row < 100 { // one run of rows: a span
			return "run_gse_agent"
		}
		return names[rowTerm[row]]
	}
	built := buildStrTerms(n, value, true)
	kinds := map[string]int{}
	for id := range uint32(built.Len()) {
		kinds[kindOf(&built.postings, id)]++
	}
	if len(kinds) != 3 {
		t.Fatalf("kinds of terms %v: want all three", kinds)
	}
	w := &imgWriter{}
	w.strTerms(built)
	r := &imgReader{b: w.buf}
	read := r.strTerms(n)
	if r.err != nil {
		t.Fatal(r.err)
	}
	for name, d := range map[string]*StrTerms{"built": built, "read": read} {
		for _, suf := range []string{"_gse_agent", "agent", "gse_agent", "nginx", "q", "", "a_gse_agent", "xyy"} {
			lo, hi := d.SuffixRange(suf)
			var want []uint32
			for row := range n {
				if strings.HasSuffix(value(row), suf) {
					want = append(want, uint32(row))
				}
			}
			words := make([]uint64, (n+63)/64)
			d.OrSuffixRows(words, lo, hi)
			if got := roaring.FromDense(words, true).ToArray(); !slices.Equal(got, want) && len(got)+len(want) > 0 {
				t.Errorf("%s: suffix %q: rows %v, want %v", name, suf, got, want)
			}
			for _, id := range d.SuffixTerms(suf) {
				if !strings.HasSuffix(d.Term(id), suf) {
					t.Errorf("%s: suffix %q: term %q", name, suf, d.Term(id))
				}
			}
		}
	}
}
