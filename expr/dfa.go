package expr

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"
)

// Bounds of the deterministic automaton of one pattern: at most
// maxDFAStates states (a state takes about 1 KB) and maxDFAWork steps of
// building, a step being one nondeterministic state visited (a new state
// counts 128). Past either, a string that needs a transition not yet built
// is simulated instead, so the automaton costs a pattern at most a few
// milliseconds whatever its shape.
const (
	maxDFAStates = 1024
	maxDFAWork   = 1 << 19
)

// dfa is the deterministic automaton of a node sequence over ASCII
// strings, built lazily: a state is a set of states of the
// nondeterministic automaton, made the first time a string reaches it.
// Reading a built transition is one atomic load, so Match runs from many
// goroutines at once; building one takes mu.
type dfa struct {
	nfa   []nstate
	class [128]uint8 // byte → class: bytes of a class label the same edges
	// sureStar[s]: s is a star from which state 0 is reached by empty
	// transitions.
	sureStar []bool
	start    *dstate

	full  atomic.Bool // a bound is reached: build no more
	mu    sync.Mutex  // guards the fields below and the building of states
	byKey map[string]*dstate
	work  int
	bits  []uint64 // the set being built, one bit per state
}

// dstate is a state of the deterministic automaton.
type dstate struct {
	next   [128]atomic.Pointer[dstate] // by byte; nil: not built yet
	set    []int32                     // the nondeterministic states, ascending
	accept bool
	// stop: the answer is accept whatever follows, ASCII or not: no
	// state is left (dead) or an accepting star is (sure).
	stop bool
}

// newDFA returns the automaton of seq, one with a nil start (that decides
// nothing) when its nondeterministic automaton would exceed maxNFAStates.
func newDFA(seq []node) *dfa {
	nfa, start, ok := buildNFA(seq)
	if !ok {
		return &dfa{}
	}
	d := &dfa{nfa: nfa, byKey: map[string]*dstate{}, sureStar: sureStars(nfa)}
	d.class = byteClasses(nfa)
	d.bits = make([]uint64, len(nfa)/64+1)
	d.closure(start)
	d.start = d.state()
	return d
}

// match runs the automaton over s. It reports decided false, and no
// answer, when s holds a byte of 0x80 or more before the answer is known
// or when a transition it needs is past the bounds.
func (d *dfa) match(s string) (ok, decided bool) {
	st := d.start
	if st == nil {
		return false, false
	}
	if st.stop {
		return st.accept, true
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return false, false
		}
		n := st.next[c].Load()
		if n == nil {
			if n = d.build(st, c); n == nil {
				return false, false
			}
		}
		if n.stop {
			return n.accept, true
		}
		st = n
	}
	return st.accept, true
}

// build returns the state reached from st on byte c, making it if need
// be, and sets the transition for every byte of c's class; nil past the
// bounds.
func (d *dfa) build(st *dstate, c byte) *dstate {
	if d.full.Load() {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if n := st.next[c].Load(); n != nil {
		return n // built meanwhile
	}
	if d.work += len(st.set); d.work > maxDFAWork {
		d.full.Store(true)
		return nil
	}
	for _, s := range st.set {
		for _, e := range d.nfa[s].edges {
			if e.set.has(c) {
				d.closure(e.to)
			}
		}
	}
	n := d.state()
	if n == nil {
		return nil
	}
	cl := d.class[c]
	for b := range st.next {
		if d.class[b] == cl {
			st.next[b].Store(n)
		}
	}
	return n
}

// closure adds to d.bits the states reachable from s by empty
// transitions, s included.
func (d *dfa) closure(s int32) {
	if d.bits[s>>6]&(1<<(s&63)) != 0 {
		return
	}
	d.bits[s>>6] |= 1 << (s & 63)
	d.work++
	for _, t := range d.nfa[s].eps {
		d.closure(t)
	}
}

// state returns the state of the set in d.bits, making it if need be, and
// clears d.bits; nil past the bounds.
func (d *dfa) state() *dstate {
	key := make([]byte, 0, 8*len(d.bits))
	for _, w := range d.bits {
		key = binary.LittleEndian.AppendUint64(key, w)
	}
	var set []int32
	for i, w := range d.bits {
		for ; w != 0; w &= w - 1 {
			set = append(set, int32(i<<6+bits.TrailingZeros64(w)))
		}
	}
	clear(d.bits)
	if n, ok := d.byKey[string(key)]; ok {
		return n
	}
	if d.work += 128; len(d.byKey) >= maxDFAStates || d.work > maxDFAWork {
		d.full.Store(true)
		return nil
	}
	n := &dstate{set: set}
	n.accept = len(set) > 0 && set[0] == 0
	n.stop = len(set) == 0 || n.accept && d.sure(set)
	d.byKey[string(key)] = n
	return n
}

// sure reports whether set holds a star from which the accepting state is
// reached by empty transitions: then every continuation matches.
func (d *dfa) sure(set []int32) bool {
	for _, s := range set {
		if d.sureStar[s] {
			return true
		}
	}
	return false
}

// sureStars returns, for each state, whether it is a star (a loop on every
// ASCII byte) from which state 0 is reached by empty transitions.
func sureStars(nfa []nstate) []bool {
	const unknown, no, yes = 0, 1, 2
	reach := make([]uint8, len(nfa)) // state 0 reached by empty transitions
	var reaches func(s int32) bool
	reaches = func(s int32) bool {
		if reach[s] == unknown {
			reach[s] = no
			if s == 0 || slices.ContainsFunc(nfa[s].eps, reaches) {
				reach[s] = yes
			}
		}
		return reach[s] == yes
	}
	sure := make([]bool, len(nfa))
	for s := range nfa {
		e := nfa[s].edges
		sure[s] = len(e) == 1 && e[0].to == int32(s) && e[0].set == anyASCII && reaches(int32(s))
	}
	return sure
}

// byteClasses partitions the bytes 0..127 so that two bytes of a class
// are in the same edge sets, and returns each byte's class: the
// transition built for one byte serves its whole class.
func byteClasses(nfa []nstate) (class [128]uint8) {
	n := 1
	seen := map[asciiSet]bool{}
	for _, st := range nfa {
		for _, e := range st.edges {
			if n == len(class) {
				return class // every byte is a class of its own
			}
			if seen[e.set] {
				continue
			}
			seen[e.set] = true
			// Split each class by membership in e.set.
			var split [128][2]int16
			for c := range class {
				in := 0
				if e.set.has(byte(c)) {
					in = 1
				}
				id := &split[class[c]][in]
				if *id == 0 {
					*id = int16(n) + 1 // 1-based, 0 is unset
					n++
				}
				class[c] = uint8(*id - 1)
			}
			n = renumber(&class)
		}
	}
	return class
}

// renumber makes the class numbers dense, 0 up, in order of first byte,
// and returns their count.
func renumber(class *[128]uint8) int {
	var ids [256]int16
	n := 0
	for c, k := range class {
		if ids[k] == 0 {
			n++
			ids[k] = int16(n)
		}
		class[c] = uint8(ids[k] - 1)
	}
	return n
}
