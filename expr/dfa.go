package expr

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"
)

// Bounds of the deterministic automaton of one pattern: at most
// maxDFAStates states (a state takes a row of 516 bytes) and
// maxDFAWork steps of building, a step being one nondeterministic state
// visited (a new state counts 128). Past either, a string that needs a
// transition not yet built is simulated instead, so the automaton costs a
// pattern at most 2^17 steps and 0.25 MB of table whatever its shape
// (TestDFABounds checks both; the suite's ten-group pattern needs 43
// states and about 6k steps on TestDFAServiceNames' names).
const (
	maxDFAStates = 512
	maxDFAWork   = 1 << 17
)

// A cell of the transition table is the row offset of the next state, or
// one of these.
const (
	cellNone = 0  // not built yet (row 0 is never a state)
	cellDead = -1 // no match, whatever follows
	cellSure = -2 // a match, whatever follows (an accepting star is left)

	rowWidth = 129 // cells of a row: bytes 0..127, then 1 if accepting
)

// dfa is the deterministic automaton of a node sequence over ASCII
// strings, built lazily: a state is a set of states of the
// nondeterministic automaton, made the first time a string reaches it.
// Its transitions are a table of rows, one per state, of one cell per
// ASCII byte then an accepting flag (rowWidth cells). Reading a built
// transition is one atomic load, so Match runs from many goroutines at
// once; building one takes mu, and a table that grows is copied, so a
// reader of the old one only finds fewer transitions built.
type dfa struct {
	nfa   []nstate
	class [128]uint8 // byte → class: bytes of a class label the same edges
	// sureStar[s]: s is a star from which state 0 is reached by empty
	// transitions.
	sureStar []bool
	start    int32 // a cell: cellNone when there is no automaton
	table    atomic.Pointer[[]int32]

	full  atomic.Bool // a bound is reached: build no more
	mu    sync.Mutex  // guards the fields below and the building of states
	byKey map[string]int32
	sets  [][]int32 // by row: the nondeterministic states, ascending
	work  int
	bits  []uint64 // the set being built, one bit per state
	key   []byte   // scratch: the bytes of bits
}

// newDFA returns the automaton of seq, one without a start (that decides
// nothing) when its nondeterministic automaton would exceed maxNFAStates.
func newDFA(seq []node) *dfa {
	nfa, start, ok := buildNFA(seq)
	if !ok {
		return &dfa{}
	}
	d := &dfa{nfa: nfa, byKey: map[string]int32{}, sureStar: sureStars(nfa)}
	d.class = byteClasses(nfa)
	tab := make([]int32, 8*rowWidth)
	d.table.Store(&tab)
	d.sets = [][]int32{nil} // row 0
	d.bits = make([]uint64, len(nfa)/64+1)
	d.closure(start)
	d.start = d.state()
	return d
}

// match runs the automaton over s. It reports decided false, and no
// answer, when s holds a byte of 0x80 or more before the answer is known
// or when a transition it needs is past the bounds.
func (d *dfa) match(s string) (ok, decided bool) {
	x := d.start
	if x <= 0 {
		return x == cellSure, x != cellNone
	}
	tab := *d.table.Load()
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return false, false
		}
		y := atomic.LoadInt32(&tab[x+int32(c)])
		if y <= 0 {
			if y == cellNone {
				if y = d.build(x, c); y == cellNone {
					return false, false
				}
				tab = *d.table.Load()
			}
			if y < 0 {
				return y == cellSure, true
			}
		}
		x = y
	}
	return tab[x+rowWidth-1] != 0, true
}

// build returns the cell of the transition from the state at row offset x
// on byte c, making the state if need be; cellNone past the bounds.
func (d *dfa) build(x int32, c byte) int32 {
	if d.full.Load() {
		return cellNone
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if y := atomic.LoadInt32(&(*d.table.Load())[x+int32(c)]); y != cellNone {
		return y // built meanwhile
	}
	set := d.sets[x/rowWidth]
	if d.work += len(set); d.work > maxDFAWork {
		d.full.Store(true)
		return cellNone
	}
	for _, s := range set {
		for _, e := range d.nfa[s].edges {
			if e.set.has(c) {
				d.closure(e.to)
			}
		}
	}
	y := d.state()
	if y != cellNone {
		tab := *d.table.Load()
		for b, cl := range d.class { // the whole class of c
			if cl == d.class[c] {
				atomic.StoreInt32(&tab[x+int32(b)], y)
			}
		}
	}
	return y
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

// state returns the cell of the state of the set in d.bits, making its
// row if need be, and clears d.bits; cellNone past the bounds.
func (d *dfa) state() int32 {
	key := d.key[:0]
	for _, w := range d.bits {
		key = binary.LittleEndian.AppendUint64(key, w)
	}
	d.key = key
	if y, ok := d.byKey[string(key)]; ok {
		clear(d.bits)
		return y
	}
	var set []int32
	for i, w := range d.bits {
		for ; w != 0; w &= w - 1 {
			set = append(set, int32(i<<6+bits.TrailingZeros64(w)))
		}
	}
	clear(d.bits)
	if d.work += 128; len(d.byKey) >= maxDFAStates || d.work > maxDFAWork {
		d.full.Store(true)
		return cellNone
	}
	accept := len(set) > 0 && set[0] == 0
	var y int32
	switch {
	case len(set) == 0:
		y = cellDead
	case accept && d.sure(set):
		y = cellSure
	default:
		y = d.row(accept)
		d.sets = append(d.sets, set)
	}
	d.byKey[string(key)] = y
	return y
}

// row appends a row to the table, growing it by a copy when full (never
// past the rows of maxDFAStates states and row 0), and returns its offset.
func (d *dfa) row(accept bool) int32 {
	tab := *d.table.Load()
	off := int32(len(d.sets)) * rowWidth
	if int(off+rowWidth) > len(tab) {
		grown := make([]int32, min(2*len(tab), (maxDFAStates+1)*rowWidth))
		copy(grown, tab)
		d.table.Store(&grown)
		tab = grown
	}
	if accept {
		tab[off+rowWidth-1] = 1
	}
	return off
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
	seen := map[byteSet]bool{}
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
