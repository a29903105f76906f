package index

import "math"

// Encoders and decoders of the column types of the image. Each decoder
// takes the number of values the column must hold and checks it.

func (w *imgWriter) uints(u *uints) {
	w.array(2)
	switch {
	case u.u8 != nil:
		w.uint(1)
		words(w, u.u8)
	case u.u16 != nil:
		w.uint(2)
		words(w, u.u16)
	case u.u32 != nil:
		w.uint(4)
		words(w, u.u32)
	case u.u64 != nil:
		w.uint(8)
		words(w, u.u64)
	default:
		w.uint(0)
		w.bin(nil)
	}
}

// uints reads a column of n values, each below hi.
func (r *imgReader) uints(n int, hi uint64, what string) uints {
	r.array(2, what)
	var u uints
	switch width := r.uint(); width {
	case 0:
		readWords[uint8](r, 0, what)
	case 1:
		u.u8 = readWords[uint8](r, n, what)
	case 2:
		u.u16 = readWords[uint16](r, n, what)
	case 4:
		u.u32 = readWords[uint32](r, n, what)
	case 8:
		u.u64 = readWords[uint64](r, n, what)
	default:
		r.failf("%s: width %d", what, width)
	}
	if r.err != nil {
		return uints{}
	}
	if n > 0 && hi == 0 {
		r.failf("%s: %d values, none allowed", what, n)
		return uints{}
	}
	if hi != math.MaxUint64 {
		for i := range n {
			if v := u.get(i); v >= hi {
				r.failf("%s: value %d out of range (below %d)", what, v, hi)
				return uints{}
			}
		}
	}
	return u
}

func (w *imgWriter) ints(c *ints) {
	w.array(2)
	w.int(c.base)
	w.uints(&c.off)
}

func (r *imgReader) ints(n int, what string) ints {
	r.array(2, what)
	base := r.int()
	return ints{base: base, off: r.uints(n, math.MaxUint64, what)}
}

func (w *imgWriter) bits(b bits) { words(w, []uint64(b)) }

// bits reads a set of n bits.
func (r *imgReader) bits(n int, what string) bits {
	return bits(readWords[uint64](r, (n+63)>>6, what))
}

func (w *imgWriter) dict(d *dict) {
	w.array(4)
	w.uint(uint64(d.terms()))
	w.str(d.packed)
	w.uints(&d.ends)
	w.uints(&d.codes)
}

// terms returns the number of distinct values of d.
func (d *dict) terms() int {
	if n := len(d.ends.u8) + len(d.ends.u16) + len(d.ends.u32) + len(d.ends.u64); n > 0 {
		return n
	}
	// Every value is empty: ends holds no slice, and one term (or none,
	// without rows) is all there is.
	return 1
}

// dict reads a column of n strings.
func (r *imgReader) dict(n int, what string) dict {
	r.array(4, what)
	nt := r.bounded(uint64(len(r.b)), what+" terms")
	packed := r.str()
	ends := r.uints(nt, uint64(len(packed))+1, what+" ends")
	prev := uint64(0)
	for i := range nt {
		if e := ends.get(i); e < prev {
			r.failf("%s: ends not ascending", what)
		} else {
			prev = e
		}
	}
	codes := r.uints(n, uint64(nt), what+" codes")
	return dict{packed: packed, ends: ends, codes: codes}
}

func (w *imgWriter) lists(l *lists) {
	w.array(2)
	w.uints(&l.ends)
	w.bits(l.nils)
}

// lists reads the list shapes of n rows and returns them with the number
// of items.
func (r *imgReader) lists(n int, what string) (lists, int) {
	r.array(2, what)
	// Items of narrow columns may take no bytes: their number is bounded
	// by eight a byte of the image, so that a list never costs more than
	// the image could describe.
	ends := r.uints(n, 8*uint64(len(r.b))+1, what+" ends")
	prev := uint64(0)
	for i := range n {
		if e := ends.get(i); e < prev {
			r.failf("%s: ends not ascending", what)
			break
		} else {
			prev = e
		}
	}
	return lists{ends: ends, nils: r.bits(n, what+" nils")}, int(prev)
}
