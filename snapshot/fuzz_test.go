package snapshot

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/procq/procq/record"
)

// FuzzDecode feeds arbitrary bytes to the decoder, either as a whole image
// or, when wrap is set, as a data section behind a valid header claiming
// count records (so mutations get past the header checks). Decode must
// not panic, must fail with a sentinel error or succeed, must never hand
// out more records than the bytes can hold, and whatever it accepts must
// survive a write/read round trip unchanged.
func FuzzDecode(f *testing.F) {
	gen := genRecords(12, 13)
	gen[3].Expression = "custom"
	gen[4].ServiceName = gen[4].ServiceName + "-long-" + string(bytes.Repeat([]byte("x"), 300))
	img := image(f, gen)
	f.Add(img, false, uint16(0))
	f.Add(img[headerSize:], true, uint16(len(gen)))
	f.Add(image(f, nil), false, uint16(0))
	zero := record.Record{}
	zero.Expression = zero.DerivedExpression()
	f.Add(image(f, []record.Record{zero})[headerSize:], true, uint16(1))
	f.Add(img[:len(img)/2], false, uint16(0))
	f.Add([]byte(magic), false, uint16(0))

	f.Fuzz(func(t *testing.T, data []byte, wrap bool, count uint16) {
		if wrap {
			data = rawImage(uint64(count), data)
		}
		var got []record.Record
		_, err := Decode(bytes.NewReader(data), int64(len(data)), func(r *record.Record) error {
			got = append(got, *r)
			return nil
		})
		if len(got)*minRecordSize > len(data) {
			t.Fatalf("%d records out of %d bytes", len(got), len(data))
		}
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNotSnapshot) && !errors.Is(err, ErrVersion) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		again, err := decodeBytes(image(t, got))
		if err != nil {
			t.Fatalf("re-reading accepted records: %v", err)
		}
		if len(again) != len(got) {
			t.Fatalf("round trip: %d records, want %d", len(again), len(got))
		}
		for i := range got {
			if !reflect.DeepEqual(again[i], got[i]) {
				t.Fatalf("round trip of record %d:\n got %+v\nwant %+v", i, again[i], got[i])
			}
		}
	})
}
