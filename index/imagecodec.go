package index

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unsafe"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/procq/procq/internal/hugepage"
)

// The image (see image.go) is MessagePack: arrays, integers, booleans,
// nil, and bin values. A column of fixed-width integers is one bin of its
// values, little-endian, so that reading it is one copy.

const (
	mpNil    = 0xc0
	mpFalse  = 0xc2
	mpTrue   = 0xc3
	mpBin8   = 0xc4
	mpBin16  = 0xc5
	mpBin32  = 0xc6
	mpUint8  = 0xcc
	mpUint16 = 0xcd
	mpUint32 = 0xce
	mpUint64 = 0xcf
	mpInt64  = 0xd3
	mpArr16  = 0xdc
	mpArr32  = 0xdd
)

// littleEndian is true when the machine stores integers as the image
// does, so a column is copied as bytes.
var littleEndian = func() bool { x := uint16(1); return *(*byte)(unsafe.Pointer(&x)) == 1 }()

// imgWriter appends MessagePack values to buf.
type imgWriter struct{ buf []byte }

func (w *imgWriter) array(n int) {
	switch {
	case n < 16:
		w.buf = append(w.buf, 0x90|byte(n))
	case n <= math.MaxUint16:
		w.buf = binary.BigEndian.AppendUint16(append(w.buf, mpArr16), uint16(n))
	default:
		w.buf = binary.BigEndian.AppendUint32(append(w.buf, mpArr32), uint32(n))
	}
}

func (w *imgWriter) uint(v uint64) {
	switch {
	case v < 128:
		w.buf = append(w.buf, byte(v))
	case v <= math.MaxUint8:
		w.buf = append(w.buf, mpUint8, byte(v))
	case v <= math.MaxUint16:
		w.buf = binary.BigEndian.AppendUint16(append(w.buf, mpUint16), uint16(v))
	case v <= math.MaxUint32:
		w.buf = binary.BigEndian.AppendUint32(append(w.buf, mpUint32), uint32(v))
	default:
		w.buf = binary.BigEndian.AppendUint64(append(w.buf, mpUint64), v)
	}
}

func (w *imgWriter) int(v int64) {
	if v >= 0 {
		w.uint(uint64(v))
		return
	}
	w.buf = binary.BigEndian.AppendUint64(append(w.buf, mpInt64), uint64(v))
}

func (w *imgWriter) bool(b bool) {
	if b {
		w.buf = append(w.buf, mpTrue)
	} else {
		w.buf = append(w.buf, mpFalse)
	}
}

func (w *imgWriter) nil() { w.buf = append(w.buf, mpNil) }

// binHeader starts a bin of n bytes.
func (w *imgWriter) binHeader(n int) {
	switch {
	case n <= math.MaxUint8:
		w.buf = append(w.buf, mpBin8, byte(n))
	case n <= math.MaxUint16:
		w.buf = binary.BigEndian.AppendUint16(append(w.buf, mpBin16), uint16(n))
	default:
		w.buf = binary.BigEndian.AppendUint32(append(w.buf, mpBin32), uint32(n))
	}
}

func (w *imgWriter) bin(b []byte) {
	w.binHeader(len(b))
	w.buf = append(w.buf, b...)
}

func (w *imgWriter) str(s string) {
	w.binHeader(len(s))
	w.buf = append(w.buf, s...)
}

// words writes vs, each size bytes, as one bin.
func words[T uint8 | uint16 | uint32 | uint64 | int64](w *imgWriter, vs []T) {
	size := int(unsafe.Sizeof(T(0)))
	w.binHeader(len(vs) * size)
	if littleEndian && len(vs) > 0 {
		w.buf = append(w.buf, unsafe.Slice((*byte)(unsafe.Pointer(&vs[0])), len(vs)*size)...)
		return
	}
	for _, v := range vs {
		w.buf = binary.LittleEndian.AppendUint64(w.buf, uint64(v))[:len(w.buf)+size]
	}
}

// Write appends p: roaring writes a bitmap through it.
func (w *imgWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	return len(p), nil
}

func (w *imgWriter) bitmap(b *roaring.Bitmap) {
	w.binHeader(int(b.GetSerializedSizeInBytes()))
	b.WriteTo(w) // never fails: w takes every byte
}

// errImage is wrapped by every error of a malformed image.
var errImage = errors.New("malformed index image")

// imgReader reads MessagePack values from b. The first error sticks:
// every later read returns a zero value.
type imgReader struct {
	b   []byte
	err error
	bmr bytes.Reader // what roaring reads a bitmap from, reused
}

func (r *imgReader) failf(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format, append([]any{errImage}, args...)...)
	}
}

func (r *imgReader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.failf("%d bytes wanted, %d left", n, len(r.b))
		return nil
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p
}

func (r *imgReader) byte() byte {
	p := r.take(1)
	if p == nil {
		return 0
	}
	return p[0]
}

func (r *imgReader) be(n int) uint64 {
	p := r.take(n)
	var v uint64
	for _, c := range p {
		v = v<<8 | uint64(c)
	}
	return v
}

// arrayLen reads an array header.
func (r *imgReader) arrayLen(what string) uint64 {
	switch c := r.byte(); {
	case c&0xf0 == 0x90:
		return uint64(c & 0x0f)
	case c == mpArr16:
		return r.be(2)
	case c == mpArr32:
		return r.be(4)
	}
	r.failf("%s: not an array", what)
	return 0
}

// array reads an array header and checks that it has want elements.
func (r *imgReader) array(want int, what string) {
	if n := r.arrayLen(what); n != uint64(want) && r.err == nil {
		r.failf("%s: %d elements, want %d", what, n, want)
	}
}

// count reads an array header whose elements take at least min bytes each.
func (r *imgReader) count(min int, what string) int {
	n := r.arrayLen(what)
	if r.err == nil && n > uint64(len(r.b)/min) {
		r.failf("%s: %d elements cannot fit in %d bytes", what, n, len(r.b))
	}
	if r.err != nil {
		return 0
	}
	return int(n)
}

func (r *imgReader) uint() uint64 {
	c := r.byte()
	switch {
	case c < 128:
		return uint64(c)
	case c == mpUint8:
		return r.be(1)
	case c == mpUint16:
		return r.be(2)
	case c == mpUint32:
		return r.be(4)
	case c == mpUint64:
		return r.be(8)
	}
	r.failf("not an unsigned integer (0x%02x)", c)
	return 0
}

// bounded reads an unsigned integer of at most hi.
func (r *imgReader) bounded(hi uint64, what string) int {
	v := r.uint()
	if v > hi {
		r.failf("%s %d out of range (at most %d)", what, v, hi)
		return 0
	}
	return int(v)
}

func (r *imgReader) int() int64 {
	if len(r.b) > 0 && r.b[0] == mpInt64 {
		r.b = r.b[1:]
		return int64(r.be(8))
	}
	v := r.uint()
	if v > math.MaxInt64 {
		r.failf("integer %d out of range", v)
	}
	return int64(v)
}

func (r *imgReader) bool() bool {
	switch c := r.byte(); c {
	case mpTrue:
		return true
	case mpFalse:
		return false
	}
	r.failf("not a boolean")
	return false
}

// isNil reads a nil if one is next.
func (r *imgReader) isNil() bool {
	if r.err == nil && len(r.b) > 0 && r.b[0] == mpNil {
		r.b = r.b[1:]
		return true
	}
	return false
}

// bin returns the bytes of a bin; they alias the image.
func (r *imgReader) bin() []byte {
	var n uint64
	switch c := r.byte(); c {
	case mpBin8:
		n = r.be(1)
	case mpBin16:
		n = r.be(2)
	case mpBin32:
		n = r.be(4)
	default:
		r.failf("not a bin (0x%02x)", c)
	}
	return r.take(int(n))
}

// str returns a bin as a new string.
func (r *imgReader) str() string {
	b := r.binCopy()
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// binCopy returns the bytes of a bin as a new slice (nil on an error).
func (r *imgReader) binCopy() []byte {
	b := r.bin()
	if b == nil {
		return nil
	}
	c := make([]byte, len(b))
	defer hugepage.Advise(c)()
	copy(c, b)
	return c
}

// readWords reads a bin of values of T into a new slice; want < 0 takes any
// length.
func readWords[T uint8 | uint16 | uint32 | uint64 | int64](r *imgReader, want int, what string) []T {
	b := r.bin()
	size := int(unsafe.Sizeof(T(0)))
	if r.err != nil {
		return nil
	}
	if len(b)%size != 0 || (want >= 0 && len(b) != want*size) {
		r.failf("%s: %d bytes, want %d values of %d bytes", what, len(b), want, size)
		return nil
	}
	if len(b) == 0 {
		return nil
	}
	vs := make([]T, len(b)/size)
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&vs[0])), len(b))
	defer hugepage.Advise(raw)()
	if littleEndian {
		copy(raw, b)
		return vs
	}
	for i := range vs {
		var v uint64
		for k := size - 1; k >= 0; k-- {
			v = v<<8 | uint64(b[i*size+k])
		}
		vs[i] = T(v)
	}
	return vs
}

// bitmap reads a bitmap of values below n (checkRoaring); it shares
// nothing with the image.
func (r *imgReader) bitmap(n int) *roaring.Bitmap {
	b := r.bin()
	if r.err != nil {
		return nil
	}
	if err := checkRoaring(b, n); err != nil {
		r.failf("%v", err)
		return nil
	}
	bm := roaring.New()
	r.bmr.Reset(b)
	if _, err := bm.ReadFrom(&r.bmr); err != nil {
		r.failf("bitmap: %v", err)
		return nil
	}
	return bm
}

// below checks that every value of vs is below hi.
func below(r *imgReader, vs []uint32, hi uint64, what string) {
	for _, v := range vs {
		if uint64(v) >= hi {
			r.failf("%s: %d out of range (below %d)", what, v, hi)
			return
		}
	}
}
