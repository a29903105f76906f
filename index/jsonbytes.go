package index

import "slices"

// This file holds the byte writers of the row writer (appendRow): a
// constant piece of up to 32 bytes copied as one block, and integers
// written in place, so that writing a member costs no call of
// runtime.memmove for its key and its number. Medians of cpu-ns/op at
// 100k rows, 4-5 runs alternated between builds:
// go test ./index -run '^$' -bench 'PageJSON/(50|1000)/batch' -benchtime 1s
// strconv.AppendInt in place of appendInt: 50 rows 13.5 -> 15.7 us,
// 1,000 rows 395 -> 455 us; then append of the piece's string in place
// of appendBlock: 1,000 rows 446 -> 516 us.

// blockSize is the size of the blocks appendBlock copies.
const blockSize = 32

// block is a constant piece of JSON of up to blockSize bytes, padded.
type block struct {
	b [blockSize]byte
	n uint8
}

// newBlock returns s as a block; s must fit one.
func newBlock(s string) block {
	if len(s) > blockSize {
		panic("index: JSON piece longer than a block: " + s) // the pieces are constants
	}
	var k block
	k.n = uint8(copy(k.b[:], s))
	return k
}

// String returns the piece k holds.
func (k *block) String() string { return string(k.b[:k.n]) }

// appendBlock appends the piece of k: it copies the whole block past the
// end of b and keeps its length.
func appendBlock(b []byte, k *block) []byte {
	n := len(b)
	if cap(b)-n < blockSize {
		b = slices.Grow(b, blockSize)
	}
	*(*[blockSize]byte)(b[n : n+blockSize]) = k.b
	return b[:n+int(k.n)]
}

// digitPairs holds "00" to "99".
const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// appendInt appends v in decimal, as strconv.AppendInt(b, v, 10).
func appendInt(b []byte, v int64) []byte {
	u := uint64(v)
	if v < 0 {
		b = append(b, '-')
		u = -u
	}
	if u < 10 {
		return append(b, byte('0'+u))
	}
	n := 2
	for p := uint64(100); n < 20 && u >= p; p *= 10 {
		n++
	}
	b = slices.Grow(b, n)
	i := len(b) + n
	b = b[:i]
	for u >= 100 {
		q := u / 100
		r := (u - q*100) * 2
		i -= 2
		b[i], b[i+1] = digitPairs[r], digitPairs[r+1]
		u = q
	}
	if u >= 10 {
		b[i-2], b[i-1] = digitPairs[u*2], digitPairs[u*2+1]
	} else {
		b[i-1] = byte('0' + u)
	}
	return b
}
