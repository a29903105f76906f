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
		for id := range t.Len() {
			t.Rows(uint32(id))
			t.Count(uint32(id))
		}
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
