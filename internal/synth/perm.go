package synth

import (
	"math/bits"
	"math/rand/v2"
)

// perm is a keyed bijection on [0, 2^bits): it turns a counter into an id
// that is unique but looks random, so ids are not sequential in topology
// order. Each step (odd multiply, add, right xorshift, all mod 2^bits) is
// invertible, hence so is the whole.
type perm struct {
	mask   uint64
	s1, s2 uint
	m1, m2 uint64
	a1, a2 uint64
}

func newPerm(rng *rand.Rand, b uint) perm {
	if b < 4 {
		b = 4
	}
	return perm{
		mask: 1<<b - 1,
		s1:   b/2 + 1,
		s2:   b/3 + 1,
		m1:   rng.Uint64() | 1,
		m2:   rng.Uint64() | 1,
		a1:   rng.Uint64(),
		a2:   rng.Uint64(),
	}
}

func (p *perm) apply(x uint64) uint64 {
	x = (x*p.m1 + p.a1) & p.mask
	x ^= x >> p.s1
	x = (x*p.m2 + p.a2) & p.mask
	x ^= x >> p.s2
	x = (x * p.m1) & p.mask
	x ^= x >> p.s1
	return x
}

// within maps x in [0, n) to a unique value in [0, n) by cycle walking;
// n must be at most 2^bits of p.
func (p *perm) within(x, n uint64) uint64 {
	for {
		x = p.apply(x)
		if x < n {
			return x
		}
	}
}

// bitsFor is the width of an id domain that can hold n distinct values
// with room to spread: at least min bits, and one bit more than n needs.
func bitsFor(n int, min uint) uint {
	b := uint(bits.Len64(uint64(n))) + 1
	if b < min {
		b = min
	}
	return b
}
