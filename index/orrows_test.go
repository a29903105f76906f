package index

import (
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
)

// TestOrRows checks OrRowsOf against Rows for span terms and bitmap terms,
// with word arrays that hold every row or stop short of some.
func TestOrRows(t *testing.T) {
	// Terms "a" (rows 0-69, a span across a word boundary), "b" (scattered
	// rows: a bitmap), "c" (rows 130-199, a span ending mid-word), "e"
	// (rows 100-109, a span inside one word).
	value := func(row int) string {
		switch {
		case row < 70:
			return "a"
		case row >= 130:
			return "c"
		case row >= 100 && row < 110:
			return "e"
		case row%2 == 0:
			return "b"
		}
		return "d"
	}
	d := buildStrTerms(200, value, false)
	tests := []struct {
		name  string
		words int
	}{{"all rows", 4}, {"first two words", 2}, {"one word", 1}}
	for _, tt := range tests {
		for id := range uint32(d.Len()) {
			words := make([]uint64, tt.words)
			want := d.Rows(id).Clone()
			if top := uint64(tt.words * 64); top < 200 {
				want.RemoveRange(top, 200)
			}
			d.OrRowsOf(words, []uint32{id})
			if got := roaring.FromDense(words, true); !got.Equals(want) {
				t.Errorf("%s, term %q alone in OrRowsOf: rows %v, want %v", tt.name, d.Term(id), got.ToArray(), want.ToArray())
			}
		}
		all := make([]uint32, d.Len())
		for id := range all {
			all[id] = uint32(id)
		}
		words := make([]uint64, tt.words)
		d.OrRowsOf(words, all)
		if got, want := roaring.FromDense(words, true).GetCardinality(), uint64(min(200, tt.words*64)); got != want {
			t.Errorf("%s: OrRowsOf every term sets %d rows, want %d", tt.name, got, want)
		}
	}
}

func TestSetRange(t *testing.T) {
	tests := []struct{ lo, hi uint32 }{{0, 0}, {0, 1}, {5, 64}, {63, 65}, {0, 128}, {3, 200}, {64, 128}, {10, 10}}
	for _, tt := range tests {
		words := make([]uint64, 4)
		setRange(words, tt.lo, tt.hi)
		want := roaring.New()
		want.AddRange(uint64(tt.lo), uint64(tt.hi))
		if got := roaring.FromDense(words, true); !got.Equals(want) {
			t.Errorf("setRange(%d, %d) = %v", tt.lo, tt.hi, got.ToArray())
		}
	}
}
