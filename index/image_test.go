package index

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
	"unsafe"

	"github.com/procq/procq/internal/synth"
	"github.com/procq/procq/record"
)

// imageOf returns the image of ix.
func imageOf(t testing.TB, ix *Index) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := ix.WriteImage(&buf, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sameIndex asserts that b holds what a holds: the same records by row,
// the same postings of every term and the same orders.
func sameIndex(t *testing.T, a, b *Index) {
	t.Helper()
	if a.Len() != b.Len() {
		t.Fatalf("rows: %d, want %d", b.Len(), a.Len())
	}
	if got, want := allRecords(b), allRecords(a); !reflect.DeepEqual(got, want) {
		t.Fatal("records differ")
	}
	for i, f := range intTermFields() {
		x, y := *f(a), *f(b)
		if !slices.Equal(x.values, y.values) {
			t.Fatalf("int terms %d: values differ", i)
		}
		for id := range x.values {
			if !x.rows(uint32(id)).Equals(y.rows(uint32(id))) {
				t.Fatalf("int terms %d: rows of term %d differ", i, id)
			}
		}
	}
	for i, f := range strTermFields() {
		x, y := *f(a), *f(b)
		if !slices.Equal(x.terms, y.terms) || !slices.Equal(x.rowTerm, y.rowTerm) ||
			!slices.Equal(x.suffixOrder(), y.suffixOrder()) || x.alphabet != y.alphabet ||
			!reflect.DeepEqual(x.grams, y.grams) {
			t.Fatalf("str terms %d differ", i)
		}
		for id := range x.terms {
			if !x.rows(uint32(id)).Equals(y.rows(uint32(id))) {
				t.Fatalf("str terms %d: rows of term %d differ", i, id)
			}
		}
	}
	for k := range NumKeys {
		x, y := a.Order(k), b.Order(k)
		if !slices.Equal(x.Perm, y.Perm) || !slices.Equal(x.Rank, y.Rank) || x.Unique != y.Unique ||
			!slices.Equal(x.groupStart, y.groupStart) || x.NumBlocks() != y.NumBlocks() {
			t.Fatalf("order %d differs", k)
		}
		for i := range x.NumBlocks() {
			if !x.Block(i).Equals(y.Block(i)) {
				t.Fatalf("order %d: block %d differs", k, i)
			}
		}
	}
	if !reflect.DeepEqual(a.biz, b.biz) || !slices.Equal(a.pids, b.pids) || !slices.Equal(a.pidRows, b.pidRows) {
		t.Fatal("business spans or process ids differ")
	}
}

// TestImageRoundTrip: the index read back from an image holds what the
// index written held, as built and after status batches (narrow and wide
// status columns, proc_inst_infos set by updates, nil and empty).
func TestImageRoundTrip(t *testing.T) {
	recs, err := synth.Collect(synth.Options{Processes: 3000, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	vals := make([]record.Record, len(recs))
	for i, r := range recs {
		vals[i] = *r
	}
	built := Build(recs)
	rnd := rand.New(rand.NewPCG(1, 2))
	updated, _ := built.WithStatus(randomBatch(rnd, vals, 500))
	wide := updated
	for range 4 {
		ups := randomBatch(rnd, vals, 300)
		for i := range ups {
			ups[i].ProcessStatus = 1000 + rnd.Int64N(1000) // past one-byte codes
		}
		wide, _ = wide.WithStatus(ups)
	}
	empty := Build(nil)
	for _, tc := range []struct {
		name string
		ix   *Index
	}{{"built", built}, {"updated", updated}, {"wide", wide}, {"empty", empty}} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadImage(imageOf(t, tc.ix))
			if err != nil {
				t.Fatal(err)
			}
			sameIndex(t, tc.ix, got)
			if !bytes.Equal(imageOf(t, got), imageOf(t, tc.ix)) {
				t.Fatal("the image of the index read differs")
			}
		})
	}
	if wide.cols.status.wide == nil {
		t.Fatal("the status column never went wide: the test misses that case")
	}
}

// TestImageTruncated: every proper prefix of an image, and an image with
// a byte more, is refused as malformed.
func TestImageTruncated(t *testing.T) {
	recs, err := synth.Collect(synth.Options{Processes: 300, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	img := imageOf(t, Build(recs))
	for n := 0; n < len(img); n += 1 + n/64 {
		if _, err := ReadImage(img[:n]); !errors.Is(err, errImage) {
			t.Fatalf("prefix of %d of %d bytes: %v", n, len(img), err)
		}
	}
	if _, err := ReadImage(append(slices.Clone(img), 0)); !errors.Is(err, errImage) {
		t.Fatalf("a byte more: %v", err)
	}
}

// TestReadImageDone: ReadImageDone hands every section of the image to
// done once, as disjoint parts of data, and reads what ReadImage reads.
func TestReadImageDone(t *testing.T) {
	recs, err := synth.Collect(synth.Options{Processes: 500, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	ix := Build(recs)
	img := imageOf(t, ix)
	var mu sync.Mutex
	seen := make([]int, len(img))
	got, err := ReadImageDone(img, func(sec []byte) {
		mu.Lock()
		defer mu.Unlock()
		off := int(uintptr(unsafe.Pointer(unsafe.SliceData(sec))) - uintptr(unsafe.Pointer(&img[0])))
		for i := range sec {
			seen[off+i]++
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	sameIndex(t, ix, got)
	runs, covered := 0, 0
	for i, c := range seen {
		if c > 1 {
			t.Fatalf("byte %d handed to done %d times", i, c)
		}
		if c == 1 && (i == 0 || seen[i-1] == 0) {
			runs++
		}
		covered += c
	}
	if runs != len(sections()) || covered == 0 {
		t.Fatalf("%d sections handed to done (%d bytes), want %d", runs, covered, len(sections()))
	}
}
