package index

import "math"

// uints holds unsigned integers, each in the narrowest width (0, 1, 2, 4
// or 8 bytes) that holds the largest: a column of small codes costs a byte
// a row, a column of zeros nothing. At most one slice is set.
type uints struct {
	u8  []uint8
	u16 []uint16
	u32 []uint32
	u64 []uint64
}

// newUints returns n zeros in the narrowest width that holds hi.
func newUints(n int, hi uint64) uints {
	var u uints
	switch {
	case hi == 0:
	case hi <= math.MaxUint8:
		u.u8 = make([]uint8, n)
	case hi <= math.MaxUint16:
		u.u16 = make([]uint16, n)
	case hi <= math.MaxUint32:
		u.u32 = make([]uint32, n)
	default:
		u.u64 = make([]uint64, n)
	}
	return u
}

// packUints returns vs narrowed; vs is not kept.
func packUints[T uint32 | uint64](vs []T) uints {
	var hi T
	for _, v := range vs {
		hi = max(hi, v)
	}
	u := newUints(len(vs), uint64(hi))
	for i, v := range vs {
		u.set(i, uint64(v))
	}
	return u
}

// set stores v, which must fit the width, at i.
func (u *uints) set(i int, v uint64) {
	switch {
	case u.u8 != nil:
		u.u8[i] = uint8(v)
	case u.u16 != nil:
		u.u16[i] = uint16(v)
	case u.u32 != nil:
		u.u32[i] = uint32(v)
	case u.u64 != nil:
		u.u64[i] = v
	}
}

func (u *uints) get(i int) uint64 {
	switch {
	case u.u8 != nil:
		return uint64(u.u8[i])
	case u.u16 != nil:
		return uint64(u.u16[i])
	case u.u32 != nil:
		return uint64(u.u32[i])
	case u.u64 != nil:
		return u.u64[i]
	}
	return 0
}

func (u *uints) sizeInBytes() uint64 {
	return uint64(len(u.u8) + 2*len(u.u16) + 4*len(u.u32) + 8*len(u.u64))
}

// ints holds signed integers as offsets from their minimum, narrowed.
type ints struct {
	base int64
	off  uints
}

// intRange collects the range of the values of an ints column before it
// is allocated, so that building one needs no temporary copy.
type intRange struct {
	lo, hi int64
	seen   bool
}

func (r *intRange) see(v int64) {
	if !r.seen {
		r.lo, r.hi, r.seen = v, v, true
	}
	r.lo, r.hi = min(r.lo, v), max(r.hi, v)
}

// newInts returns a column of n values in r, to be filled with set.
func (r *intRange) newInts(n int) ints {
	return ints{base: r.lo, off: newUints(n, uint64(r.hi)-uint64(r.lo))} // modular: exact across the sign
}

func (c *ints) set(i int, v int64) { c.off.set(i, uint64(v)-uint64(c.base)) }

func (c *ints) get(i int) int64 { return int64(uint64(c.base) + c.off.get(i)) }

func (c *ints) sizeInBytes() uint64 { return c.off.sizeInBytes() }

// bits is a set of small integers, one bit each.
type bits []uint64

func newBits(n int) bits { return make(bits, (n+63)>>6) }

func (b bits) set(i int)           { b[i>>6] |= 1 << (i & 63) }
func (b bits) has(i int) bool      { return b[i>>6]&(1<<(i&63)) != 0 }
func (b bits) sizeInBytes() uint64 { return uint64(len(b) * 8) }

// dict holds the strings of a column: each row's code into a dictionary
// of the distinct values packed into one string. The packed string never
// changes, so a value returned by get shares it and stays valid as long
// as anyone holds it; the collector scans none of it.
type dict struct {
	packed string
	ends   uints // end offset in packed of each code's value
	codes  uints
}

// dictBuilder collects the values of a dict column in order.
type dictBuilder struct {
	ids    map[string]uint32
	terms  []string
	codes  []uint32
	last   string
	lastID uint32
}

func (b *dictBuilder) add(s string) {
	if b.ids == nil {
		b.ids = make(map[string]uint32)
	}
	// Neighbouring rows often share a host: skip the map for a repeat.
	if len(b.codes) > 0 && s == b.last {
		b.codes = append(b.codes, b.lastID)
		return
	}
	id, ok := b.ids[s]
	if !ok {
		id = uint32(len(b.terms))
		b.ids[s] = id
		b.terms = append(b.terms, s)
	}
	b.last, b.lastID = s, id
	b.codes = append(b.codes, id)
}

// finish returns the column; the strings added are copied, not kept.
func (b *dictBuilder) finish() dict {
	size := 0
	for _, t := range b.terms {
		size += len(t)
	}
	buf := make([]byte, 0, size)
	ends := make([]uint64, len(b.terms))
	for i, t := range b.terms {
		buf = append(buf, t...)
		ends[i] = uint64(len(buf))
	}
	return dict{packed: string(buf), ends: packUints(ends), codes: packUints(b.codes)}
}

func (d *dict) get(i int) string {
	c := int(d.codes.get(i))
	lo := uint64(0)
	if c > 0 {
		lo = d.ends.get(c - 1)
	}
	return d.packed[lo:d.ends.get(c)]
}

func (d *dict) sizeInBytes() (codes, dictionary uint64) {
	return d.codes.sizeInBytes(), uint64(len(d.packed)) + d.ends.sizeInBytes()
}
