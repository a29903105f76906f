package expr

import "cmp"

// The automaton below reads ASCII strings only, one byte per character:
// over ASCII, `?` is any byte below 0x80, a class its ASCII members (for a
// negated class, the ASCII non-members), `*` any run of such bytes and a
// numeric range a small automaton over the digits. A byte of 0x80 or more
// is no edge's label, so a literal holding one matches no ASCII string.

// maxNFAStates bounds the automaton of a pattern: a body that needs more
// (a literal or a numeric bound of thousands of bytes) is simulated.
const maxNFAStates = 2048

// anyASCII is every byte below 0x80. An edge's set holds no other byte.
var anyASCII = byteSet{^uint64(0), ^uint64(0)}

// nedge is a transition of the automaton on one byte of set.
type nedge struct {
	set byteSet
	to  int32
}

// nstate is a state of the nondeterministic automaton: its transitions on
// one byte and the states it reaches on none. State 0 accepts.
type nstate struct {
	edges []nedge
	eps   []int32
}

// nfaBuilder builds the automaton of a node sequence back to front, each
// node from the state that follows it. Past maxNFAStates it sets over and
// stops growing.
type nfaBuilder struct {
	states []nstate
	over   bool
}

// buildNFA returns the automaton of seq over ASCII strings and its start
// state, false when it would exceed maxNFAStates.
func buildNFA(seq []node) ([]nstate, int32, bool) {
	b := &nfaBuilder{states: make([]nstate, 1, len(seq)+8)}
	start := b.seq(seq, 0)
	if b.over {
		return nil, 0, false
	}
	return b.states, start, true
}

// add appends a state and returns its number (0 once over the bound).
func (b *nfaBuilder) add(s nstate) int32 {
	if b.over || len(b.states) >= maxNFAStates {
		b.over = true
		return 0
	}
	b.states = append(b.states, s)
	return int32(len(b.states) - 1)
}

// seq builds seq in front of state next and returns its entry.
func (b *nfaBuilder) seq(seq []node, next int32) int32 {
	for i := len(seq) - 1; i >= 0 && !b.over; i-- {
		next = b.node(&seq[i], next)
	}
	return next
}

// node builds nd in front of state next and returns its entry.
func (b *nfaBuilder) node(nd *node, next int32) int32 {
	switch nd.kind {
	case kLit:
		for j := len(nd.lit) - 1; j >= 0 && !b.over; j-- {
			var set byteSet
			if c := nd.lit[j]; c < 0x80 {
				set.add(c)
			}
			next = b.add(nstate{edges: []nedge{{set, next}}})
		}
		return next
	case kAny:
		return b.add(nstate{edges: []nedge{{anyASCII, next}}})
	case kClass:
		var set byteSet
		for c := byte(0); c < 0x80; c++ {
			if inClass(nd, rune(c)) != nd.neg {
				set.add(c)
			}
		}
		return b.add(nstate{edges: []nedge{{set, next}}})
	case kStar:
		s := b.add(nstate{eps: []int32{next}})
		if !b.over {
			b.states[s].edges = []nedge{{anyASCII, s}}
		}
		return s
	case kAlt:
		eps := make([]int32, 0, len(nd.alts))
		for _, br := range nd.alts {
			eps = append(eps, b.seq(br, next))
		}
		return b.add(nstate{eps: eps})
	case kNum:
		// At most nine states per digit of hi; a longer bound is refused
		// before recursing that deep.
		if len(b.states)+9*len(nd.hi)+1 > maxNFAStates {
			b.over = true
			return 0
		}
		return (&numBuilder{b: b, lo: nd.lo, hi: nd.hi, next: next, memo: map[numKey]int32{}}).entry()
	}
	return next
}

// The digits read so far of a number compare with the same-length prefix
// of a bound as less, equal or greater: cmp.Compare's values.
const (
	cmpLess  int8 = -1
	cmpEqual int8 = 0
	cmpMore  int8 = 1
)

// numKey is a state inside a number: k digits read (the first not 0),
// comparing with lo's and hi's first k digits as lo and hi say. Once k
// exceeds len(lo) the comparison with lo no longer matters and is cmpMore.
type numKey struct {
	k      int
	lo, hi int8
}

// numBuilder builds the automaton of a numeric range lo..hi (canonical
// digit strings, lo < hi) in front of state next: the digits of a number
// without leading zeros ("0" only when lo is 0) of length len(lo)..len(hi),
// not below lo at length len(lo), not above hi at length len(hi).
type numBuilder struct {
	b      *nfaBuilder
	lo, hi string
	next   int32
	memo   map[numKey]int32
}

func (nb *numBuilder) entry() int32 {
	var st nstate
	if nb.lo == "0" {
		var zero byteSet
		zero.add('0')
		st.edges = append(st.edges, nedge{zero, nb.next})
	}
	st.edges = append(st.edges, nb.digitEdges(numKey{0, cmpEqual, cmpEqual}, '1')...)
	return nb.b.add(st)
}

// digitEdges returns the transitions from state key on each digit from
// first on, one edge per distinct target, leaving out dead targets.
func (nb *numBuilder) digitEdges(key numKey, first byte) []nedge {
	var edges []nedge
	for d := first; d <= '9' && !nb.b.over; d++ {
		to, ok := nb.state(nb.after(key, d))
		if !ok {
			continue
		}
		if n := len(edges); n > 0 && edges[n-1].to == to {
			edges[n-1].set.add(d)
			continue
		}
		var set byteSet
		set.add(d)
		edges = append(edges, nedge{set, to})
	}
	return edges
}

// after is the state reached from key on digit d.
func (nb *numBuilder) after(key numKey, d byte) numKey {
	k := key.k
	next := numKey{k + 1, key.lo, key.hi}
	switch {
	case k >= len(nb.lo):
		next.lo = cmpMore
	case key.lo == cmpEqual:
		next.lo = int8(cmp.Compare(d, nb.lo[k]))
	}
	if key.hi == cmpEqual {
		next.hi = int8(cmp.Compare(d, nb.hi[k]))
	}
	return next
}

// state returns the automaton state of key, false when no number goes on
// from it.
func (nb *numBuilder) state(key numKey) (int32, bool) {
	if id, ok := nb.memo[key]; ok {
		return id, id >= 0
	}
	ends := key.k >= len(nb.lo) && key.k <= len(nb.hi) &&
		!(key.k == len(nb.lo) && key.lo == cmpLess) && !(key.k == len(nb.hi) && key.hi == cmpMore)
	var st nstate
	if ends {
		st.eps = []int32{nb.next}
	}
	if key.k < len(nb.hi) {
		st.edges = nb.digitEdges(key, '0')
	}
	if st.eps == nil && st.edges == nil {
		nb.memo[key] = -1
		return 0, false
	}
	id := nb.b.add(st)
	nb.memo[key] = id
	return id, true
}
