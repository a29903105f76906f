package snapshot

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/procq/procq/index"
	"github.com/procq/procq/record"
)

// indexImage returns the version 2 image of recs.
func indexImage(t testing.TB, recs []record.Record) []byte {
	t.Helper()
	ptrs := make([]*record.Record, len(recs))
	for i := range recs {
		r := recs[i]
		ptrs[i] = &r
	}
	path := filepath.Join(t.TempDir(), "v2.snap")
	if err := WriteIndex(context.Background(), path, index.Build(ptrs)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rawIndexImage returns data behind a valid version 2 header of count rows.
func rawIndexImage(count uint64, data []byte) []byte { return rawImageOf(VersionIndex, count, data) }

// TestIndexRoundTrip: a version 2 snapshot reads back, through Read and
// through ReadIndex, as the records written (in topology order), and
// ReadIndex reads a version 1 snapshot of the same records alike.
func TestIndexRoundTrip(t *testing.T) {
	recs := loadConformance(t)
	v2 := indexImage(t, recs)
	got, err := decodeBytes(v2)
	if err != nil {
		t.Fatal(err)
	}
	byPID := func(rs []record.Record) []record.Record {
		rs = slices.Clone(rs)
		slices.SortFunc(rs, func(a, b record.Record) int { return int(a.ProcessID - b.ProcessID) })
		for i := range rs {
			rs[i] = normalize(rs[i])
		}
		return rs
	}
	if want := byPID(recs); !reflect.DeepEqual(byPID(got), want) {
		t.Fatal("records read from version 2 differ from those written")
	}
	dir := t.TempDir()
	for name, img := range map[string][]byte{"v1": image(t, recs), "v2": v2} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, img, 0o666); err != nil {
			t.Fatal(err)
		}
		ix, h, err := ReadIndex(path)
		if err != nil {
			t.Fatal(err)
		}
		if h.Count != uint64(len(recs)) || ix.Len() != len(recs) {
			t.Fatalf("%s: %d rows, header %d, want %d", name, ix.Len(), h.Count, len(recs))
		}
	}
}

// TestIndexDamage: a version 2 snapshot cut short, with a flipped bit, or
// with a header count that disagrees, is ErrCorrupt.
func TestIndexDamage(t *testing.T) {
	img := indexImage(t, genRecords(50, 3))
	cases := map[string][]byte{
		"truncated":   img[:len(img)-1],
		"header only": img[:headerSize],
		"count":       rawIndexImage(49, img[headerSize:]),
	}
	flipped := bytes.Clone(img)
	flipped[len(flipped)/2] ^= 0x10
	cases["flipped bit"] = flipped
	for name, b := range cases {
		if _, err := decodeBytes(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err = %v, want ErrCorrupt", name, err)
		}
		if _, _, err := decodeIndex(bytes.NewReader(b), int64(len(b))); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: index err = %v, want ErrCorrupt", name, err)
		}
	}
}

// FuzzDecodeIndex feeds arbitrary bytes to the version 2 decoder as the
// data section behind a valid header (so mutations get past the checksum).
// It must not panic nor allocate out of proportion to its input, must
// fail with ErrCorrupt or succeed, and whatever it accepts must read back
// alike through Decode.
func FuzzDecodeIndex(f *testing.F) {
	for _, n := range []int{0, 1, 12} {
		img := indexImage(f, genRecords(n, uint64(n)+3))
		f.Add(img[headerSize:], uint16(n))
	}
	f.Fuzz(func(t *testing.T, data []byte, count uint16) {
		img := rawIndexImage(uint64(count), data)
		ix, _, err := decodeIndex(bytes.NewReader(img), int64(len(img)))
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if ix.Len() != int(count) {
			t.Fatalf("%d rows, header says %d", ix.Len(), count)
		}
		n := 0
		_, err = Decode(bytes.NewReader(img), int64(len(img)), func(*record.Record) error { n++; return nil })
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Decode: %v", err)
		}
		if err == nil && n != ix.Len() {
			t.Fatalf("Decode: %d records of %d rows", n, ix.Len())
		}
	})
}
