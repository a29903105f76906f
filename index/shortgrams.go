package index

import "slices"

// shortGrams holds, for a dictionary written with few distinct bytes (the
// addresses: ten digits and a dot), a bitset over term ids for each byte,
// each pair of bytes and each common trigram: the terms containing it. A search of one or two
// bytes, which no trigram narrows, reads its terms there instead of
// testing every term (150k addresses at 1M: 1.2-1.8 ms). A loaded index
// builds them in the background (ready is closed once they are); a built
// one before Build returns (ready nil).
type shortGrams struct {
	ready chan struct{}
	code  [256]int8 // byte → its code, -1 when no term holds it
	k     int       // distinct bytes
	words int       // uint64 words a bitset
	uni   [][]uint64
	bi    [][]uint64 // [code(a)*k + code(b)]
	// tri holds the bitsets of the trigrams held by at least a
	// sixteenth of the terms ([code(a)*k*k + code(b)*k + code(c)], nil
	// for the others): there a bitset is no bigger than about twice the
	// trigram's list, and a search for "10." reads it instead of
	// decoding 100k ids (0.5 ms at 1M).
	tri [][]uint64
}

// denseTrigram is the share of the terms (one in denseTrigram) from which
// a trigram gets a bitset.
const denseTrigram = 16

// maxShortAlphabet is the most distinct bytes a dictionary may hold and
// still get short grams: k + k² bitsets of a bit a term each.
const maxShortAlphabet = 16

// newShortGrams returns the empty short grams of a dictionary whose
// terms hold the bytes alphabet marks, or nil when there are too many.
func newShortGrams(alphabet *[256]bool, terms int) *shortGrams {
	g := &shortGrams{words: (terms + 63) / 64}
	for b := range 256 {
		g.code[b] = -1
		if alphabet[b] {
			if g.k == maxShortAlphabet {
				return nil
			}
			g.code[b] = int8(g.k)
			g.k++
		}
	}
	return g
}

// fill sets the bitsets of g from terms.
func (g *shortGrams) fill(terms []string) {
	g.uni, g.bi = make([][]uint64, g.k), make([][]uint64, g.k*g.k)
	set := func(sets [][]uint64, i, id int) {
		if sets[i] == nil {
			sets[i] = make([]uint64, g.words)
		}
		sets[i][id>>6] |= 1 << (id & 63)
	}
	for id, t := range terms {
		prev := -1
		for i := range len(t) {
			c := int(g.code[t[i]])
			if c < 0 {
				prev = -1 // not in the alphabet it was made for: cannot be
				continue
			}
			set(g.uni, c, id)
			if prev >= 0 {
				set(g.bi, prev*g.k+c, id)
			}
			prev = c
		}
	}
	g.fillTrigrams(terms, set)
}

// fillTrigrams sets the bitsets of the dense trigrams: one pass counts
// the terms holding each trigram, the other sets the bits of those held
// by a denseTrigram-th of the terms or more.
func (g *shortGrams) fillTrigrams(terms []string, set func(sets [][]uint64, i, id int)) {
	k := g.k
	count := make([]int, k*k*k)
	last := make([]int32, k*k*k) // 1 + the last term counted, or 0
	each := func(t string, id int, f func(tri int)) {
		for i := 0; i+3 <= len(t); i++ {
			a, b, c := int(g.code[t[i]]), int(g.code[t[i+1]]), int(g.code[t[i+2]])
			if a >= 0 && b >= 0 && c >= 0 {
				if tri := (a*k+b)*k + c; last[tri] != int32(id+1) {
					last[tri] = int32(id + 1)
					f(tri)
				}
			}
		}
	}
	for id, t := range terms {
		each(t, id, func(tri int) { count[tri]++ })
	}
	clear(last)
	g.tri = make([][]uint64, k*k*k)
	for id, t := range terms {
		each(t, id, func(tri int) {
			if count[tri]*denseTrigram >= len(terms) {
				set(g.tri, tri, id)
			}
		})
	}
}

// terms returns the bitset of the terms containing frag (one or two
// bytes, or three of a common trigram), nil when none does; false when g
// cannot tell.
func (g *shortGrams) terms(frag string) ([]uint64, bool) {
	if g.ready != nil {
		<-g.ready
	}
	switch len(frag) {
	case 1:
		c := g.code[frag[0]]
		if c < 0 {
			return nil, true
		}
		return g.uni[c], true
	case 2:
		a, b := g.code[frag[0]], g.code[frag[1]]
		if a < 0 || b < 0 {
			return nil, true
		}
		return g.bi[int(a)*g.k+int(b)], true
	case 3:
		a, b, c := g.code[frag[0]], g.code[frag[1]], g.code[frag[2]]
		if a < 0 || b < 0 || c < 0 {
			return nil, true
		}
		if set := g.tri[(int(a)*g.k+int(b))*g.k+int(c)]; set != nil {
			return set, true
		}
	}
	return nil, false
}

// allTrigrams returns the terms holding every trigram of frag (four
// bytes or more) as a bitset of its own, when g keeps a bitset for each
// of them ("192.168.1": every trigram is common); false when it does
// not, and the rarest trigram's list is the smaller superset anyway.
func (g *shortGrams) allTrigrams(frag string) ([]uint64, bool) {
	if len(frag) < 4 {
		return nil, false
	}
	if g.ready != nil {
		<-g.ready
	}
	var out []uint64
	for i := 0; i+3 <= len(frag); i++ {
		set, ok := g.terms(frag[i : i+3])
		if !ok {
			return nil, false
		}
		if set == nil {
			return nil, true // a trigram no term holds
		}
		if out == nil {
			out = slices.Clone(set)
			continue
		}
		for w := range out {
			out[w] &= set[w]
		}
	}
	return out, true
}

// sizeInBytes returns the bytes of the bitsets.
func (g *shortGrams) sizeInBytes() uint64 {
	if g.ready != nil {
		<-g.ready
	}
	var n uint64
	for _, s := range slices.Concat(g.uni, g.bi, g.tri) {
		n += uint64(len(s) * 8)
	}
	return n
}

// buildShortGramsLater gives every term dictionary of ix that qualifies
// its short grams, built on one goroutine after a load.
func buildShortGramsLater(ix *Index) {
	var todo []*StrTerms
	for _, f := range strTermFields() {
		t := *f(ix)
		if t == nil {
			continue
		}
		if t.short = newShortGrams(&t.alphabet, len(t.terms)); t.short != nil {
			t.short.ready = make(chan struct{})
			todo = append(todo, t)
		}
	}
	go func() {
		for _, t := range todo {
			t.short.fill(t.terms)
			close(t.short.ready)
		}
	}()
}
