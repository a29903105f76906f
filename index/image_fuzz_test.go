package index

import (
	"testing"

	"github.com/procq/procq/internal/synth"
	"github.com/procq/procq/record"
)

// FuzzReadImage: ReadImage never panics and never allocates out of
// proportion to its input; an index it accepts answers every reader
// without a panic.
func FuzzReadImage(f *testing.F) {
	for _, n := range []int{0, 1, 40} {
		recs, err := synth.Collect(synth.Options{Processes: n, Seed: int64(n) + 1})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(imageOf(f, Build(recs)))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ix, err := ReadImage(data)
		if err != nil {
			return
		}
		exercise(ix)
	})
}

// exercise calls the readers of ix over every row, term and order.
func exercise(ix *Index) {
	allRecords(ix)
	ix.Sizes()
	ix.DuplicateProcess()
	for _, f := range strTermFields() {
		t := *f(ix)
		all := make([]uint32, t.Len())
		for id := range t.Len() {
			t.Rows(uint32(id))
			t.Count(uint32(id))
			all[id] = uint32(id)
		}
		t.OrRowsOf(make([]uint64, (ix.Len()+63)/64), all)
		t.Candidates("abc", "xyz")
		t.SuffixTerms("a")
		t.PrefixRange("a")
	}
	for _, f := range intTermFields() {
		t := *f(ix)
		t.Union(t.Values())
	}
	for k := range NumKeys {
		o := ix.Order(k)
		for i := range o.Perm {
			o.GroupStart(i)
			_ = o.Rank[o.Perm[i]]
		}
		for i := range o.NumBlocks() {
			o.Block(i).GetCardinality()
		}
	}
	if ix.Len() > 0 {
		pid := ix.ProcessID(0)
		ix.RowOfProcess(pid)
		ix.WithStatus([]record.StatusUpdate{{ProcessID: pid, ProcessStatus: 7, SetProcInstInfos: true}})
	}
}

// FuzzImageBitmap: a bitmap the image's reader accepts holds strictly
// ascending values below the row count, as many as its cardinality says,
// and passes roaring's Validate (quadratic in runs: small inputs only).
func FuzzImageBitmap(f *testing.F) {
	f.Add(serialize(container{0, 3, false, []uint16{1, 2, 3}}), uint32(4))
	f.Add(serialize(container{0, 15, true, []uint16{2, 0, 9, 20, 4}}), uint32(30))
	f.Add(serialize(container{0, 5000, false, bitset(5000)}, container{2, 1, false, []uint16{9}}), uint32(1<<20))
	f.Fuzz(func(t *testing.T, data []byte, rows uint32) {
		var w imgWriter
		w.bin(data)
		r := &imgReader{b: w.buf}
		bm := r.bitmap(int(rows))
		if r.err != nil || bm.GetCardinality() > 1<<20 { // runs hold up to 1<<32 values
			return
		}
		count, next := uint64(0), uint64(0)
		for it := bm.Iterator(); it.HasNext(); count++ {
			v := it.Next()
			if uint64(v) < next || v >= rows {
				t.Fatalf("accepted value %d after %d, of %d rows", v, next, rows)
			}
			next = uint64(v) + 1
		}
		if count != bm.GetCardinality() {
			t.Fatalf("accepted %d values, cardinality %d", count, bm.GetCardinality())
		}
		if len(data) <= 4096 {
			if err := bm.Validate(); err != nil {
				t.Fatalf("accepted a bitmap roaring finds invalid: %v", err)
			}
		}
	})
}
