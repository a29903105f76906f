package index

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
)

// container is one container of a hand-made serialized bitmap: its key,
// the cardinality its header claims, whether it is a run container, and
// its data as uint16s (for runs: the count, then start, length-1 pairs).
type container struct {
	key  uint16
	card int
	run  bool
	data []uint16
}

// serialize writes cs in roaring's portable format with the run cookie
// (no offsets below four containers), trusting every field of cs.
func serialize(cs ...container) []byte {
	b := binary.LittleEndian.AppendUint32(nil, roaringCookie|uint32(len(cs)-1)<<16)
	runs := make([]byte, (len(cs)+7)/8)
	for i, c := range cs {
		if c.run {
			runs[i/8] |= 1 << (i % 8)
		}
	}
	b = append(b, runs...)
	for _, c := range cs {
		b = binary.LittleEndian.AppendUint16(b, c.key)
		b = binary.LittleEndian.AppendUint16(b, uint16(c.card-1))
	}
	for _, c := range cs {
		for _, v := range c.data {
			b = binary.LittleEndian.AppendUint16(b, v)
		}
	}
	return b
}

// bitset returns the 4096 words of a bitmap container holding 0..card-1.
func bitset(card int) []uint16 {
	w := make([]uint16, roaringBitmapBytes/2)
	for v := range card {
		w[v/16] |= 1 << (v % 16)
	}
	return w
}

// TestImageBitmap: the image's bitmap reader accepts what roaring writes
// and rejects every serialization that breaks roaring's invariants or
// holds a value at or above the row count, which roaring's own reader
// would take as is.
func TestImageBitmap(t *testing.T) {
	const n = 1 << 20
	runs := roaring.New()
	runs.AddRange(10, 20)
	runs.AddRange(1<<16+5, 1<<16+9)
	runs.RunOptimize()
	dense := roaring.New()
	dense.AddRange(0, 5000)
	dense.Add(3 << 16)
	mixed := roaring.BitmapOf(1, 7, 1<<17, 5<<16)
	mixed.AddRange(2<<16, 2<<16+7000)
	for v := range uint32(5000) {
		mixed.Add(4<<16 + 2*v)
	}
	mixed.RunOptimize()
	wide := roaring.BitmapOf(1, 1<<16, 2<<16, 3<<16, 4<<16)
	for _, tc := range []struct {
		name string
		b    []byte
		rows int
		ok   bool
	}{
		{"empty", bytesOf(t, roaring.New()), 0, true},
		{"runs", bytesOf(t, runs), n, true},
		{"bitmap container", bytesOf(t, dense), n, true},
		{"arrays, runs and bitmaps", bytesOf(t, mixed), n, true},
		{"offsets", bytesOf(t, wide), n, true},
		{"array", serialize(container{0, 3, false, []uint16{1, 2, 3}}), 4, true},
		{"largest value below n", serialize(container{1, 1, false, []uint16{0}}), 1<<16 + 1, true},
		{"unsorted array", serialize(container{0, 3, false, []uint16{2, 1, 3}}), n, false},
		{"repeated array value", serialize(container{0, 3, false, []uint16{1, 1, 3}}), n, false},
		{"array shorter than its cardinality", serialize(container{0, 4, false, []uint16{1, 2, 3}}), n, false},
		{"wrong popcount", serialize(container{0, 5000, false, bitset(4999)}), n, false},
		{"overlapping runs", serialize(container{0, 15, true, []uint16{2, 0, 9, 5, 9}}), n, false},
		{"touching runs", serialize(container{0, 20, true, []uint16{2, 0, 9, 10, 9}}), n, false},
		{"unsorted runs", serialize(container{0, 20, true, []uint16{2, 20, 9, 0, 9}}), n, false},
		{"run past 65535", serialize(container{0, 20, true, []uint16{1, 65530, 19}}), n, false},
		{"run cardinality", serialize(container{0, 11, true, []uint16{1, 0, 9}}), n, false},
		{"keys not ascending", serialize(container{1, 1, false, []uint16{0}}, container{0, 1, false, []uint16{0}}), n, false},
		{"repeated key", serialize(container{0, 1, false, []uint16{0}}, container{0, 1, false, []uint16{1}}), n, false},
		{"value >= n", serialize(container{0, 2, false, []uint16{1, 4}}), 4, false},
		{"run value >= n", serialize(container{0, 10, true, []uint16{1, 0, 9}}), 9, false},
		{"bitmap value >= n", serialize(container{0, 5000, false, bitset(5000)}), 4999, false},
		{"trailing bytes", append(serialize(container{0, 1, false, []uint16{0}}), 0), n, false},
		{"bad cookie", []byte{1, 2, 3, 4}, n, false},
		{"cut short", serialize(container{0, 5000, false, bitset(5000)})[:100], n, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w imgWriter
			w.bin(tc.b)
			r := &imgReader{b: w.buf}
			bm := r.bitmap(tc.rows)
			if tc.ok {
				if r.err != nil || bm == nil {
					t.Fatalf("rejected: %v", r.err)
				}
				if err := bm.Validate(); err != nil {
					t.Fatalf("accepted a bitmap roaring finds invalid: %v", err)
				}
				return
			}
			if !errors.Is(r.err, errImage) || bm != nil {
				t.Fatalf("accepted (err %v)", r.err)
			}
		})
	}
}

// bytesOf returns roaring's serialization of b.
func bytesOf(t *testing.T, b *roaring.Bitmap) []byte {
	t.Helper()
	p, err := b.ToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return p
}
