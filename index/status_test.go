package index

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/procq/procq/internal/synth"
	"github.com/procq/procq/record"
)

// applyNaive applies ups to copies of recs (indexed by row) one after the
// other, the way a status batch is specified, and returns the ids of
// updates naming no process, ascending.
func applyNaive(ix *Index, recs []record.Record, ups []record.StatusUpdate) ([]record.Record, []int64) {
	out := slices.Clone(recs)
	var missing []int64
	for _, u := range ups {
		row, ok := ix.RowOfProcess(u.ProcessID)
		if !ok {
			missing = append(missing, u.ProcessID)
			continue
		}
		r := &out[row]
		r.ProcessStatus, r.IsAuto = u.ProcessStatus, u.IsAuto
		if u.SetProcInstInfos {
			r.ProcInstInfos = slices.Clone(u.ProcInstInfos)
		}
	}
	slices.Sort(missing)
	return out, missing
}

// randomBatch returns n updates of random processes of recs, some named
// more than once, some naming no process, a few moving rows to status
// values never seen before.
func randomBatch(rnd *rand.Rand, recs []record.Record, n int) []record.StatusUpdate {
	ups := make([]record.StatusUpdate, n)
	for i := range ups {
		u := &ups[i]
		switch x := rnd.IntN(20); {
		case x == 0:
			u.ProcessID = -1 - rnd.Int64N(5) // no such process
		case x < 6 && i > 0:
			u.ProcessID = ups[rnd.IntN(i)].ProcessID // again, later wins
		default:
			u.ProcessID = recs[rnd.IntN(len(recs))].ProcessID
		}
		u.ProcessStatus = rnd.Int64N(3)
		if rnd.IntN(50) == 0 {
			u.ProcessStatus = 100 + rnd.Int64N(1000)
		}
		u.IsAuto = rnd.IntN(2) == 0
		if rnd.IntN(3) == 0 {
			u.SetProcInstInfos = true
			switch k := rnd.IntN(4); k {
			case 0: // nil list
			case 1:
				u.ProcInstInfos = []record.ProcInstInfo{}
			default:
				for j := range k {
					u.ProcInstInfos = append(u.ProcInstInfos, record.ProcInstInfo{
						ProcessID: u.ProcessID, LocalInstID: int64(j), InstID: rnd.Int64N(1 << 20),
						ProcessStatus: u.ProcessStatus, IsAuto: u.IsAuto,
					})
				}
			}
		}
	}
	return ups
}

// checkStatus asserts that ix holds want (by row): the records it hands
// out and the process_status and is_auto postings.
func checkStatus(t *testing.T, name string, ix *Index, want []record.Record) {
	t.Helper()
	status := map[int64][]uint32{}
	auto := map[int64][]uint32{}
	for row := range want {
		if got := ix.Record(uint32(row)); !reflect.DeepEqual(*got, want[row]) {
			t.Fatalf("%s: row %d = %+v, want %+v", name, row, *got, want[row])
		}
		status[want[row].ProcessStatus] = append(status[want[row].ProcessStatus], uint32(row))
		auto[boolTerm(want[row].IsAuto)] = append(auto[boolTerm(want[row].IsAuto)], uint32(row))
	}
	for _, tc := range []struct {
		field string
		terms *IntTerms
		rows  map[int64][]uint32
	}{{"process_status", ix.Status, status}, {"is_auto", ix.IsAuto, auto}} {
		if !slices.IsSorted(tc.terms.values) {
			t.Fatalf("%s: %s values not sorted: %v", name, tc.field, tc.terms.values)
		}
		total := uint64(0)
		for _, v := range tc.terms.values {
			b := tc.terms.Get(v)
			total += b.GetCardinality()
			if got := b.ToArray(); !slices.Equal(got, tc.rows[v]) {
				t.Fatalf("%s: %s %d has rows %v, want %v", name, tc.field, v, got, tc.rows[v])
			}
		}
		for v := range tc.rows {
			if tc.terms.Get(v) == nil {
				t.Fatalf("%s: %s %d not indexed", name, tc.field, v)
			}
		}
		if total != uint64(len(want)) {
			t.Fatalf("%s: %s indexes %d rows, want %d", name, tc.field, total, len(want))
		}
	}
}

// TestWithStatusNaive applies random batches to the chunked columns and to
// plain copies of the records, and compares every version, old ones
// included, after each batch: an index never changes once made.
func TestWithStatusNaive(t *testing.T) {
	for _, size := range []int{1, 50, 2*chunkSize + 123} {
		recs, err := synth.Collect(synth.Options{Processes: size, Seed: 7})
		if err != nil {
			t.Fatal(err)
		}
		ix := Build(recs)
		model := make([]record.Record, ix.Len())
		for row := range model {
			model[row] = *ix.Record(uint32(row))
		}
		versions, models := []*Index{ix}, [][]record.Record{model}
		rnd := rand.New(rand.NewPCG(uint64(size), 3))
		for batch := range 12 {
			ups := randomBatch(rnd, model, 1+rnd.IntN(2*size))
			var missing, wantMissing []int64
			ix, missing = ix.WithStatus(ups)
			model, wantMissing = applyNaive(ix, model, ups)
			if !slices.Equal(missing, wantMissing) {
				t.Fatalf("size %d batch %d: missing %v, want %v", size, batch, missing, wantMissing)
			}
			versions, models = append(versions, ix), append(models, model)
			for v := range versions {
				checkStatus(t, fmt.Sprintf("size %d version %d", size, v), versions[v], models[v])
			}
		}
		// The random batches bring about one new status value in 50
		// updates: the large index outgrows the one-byte codes, the small
		// ones keep them.
		if wide := ix.cols.status.wide != nil; wide != (size > 1000) {
			t.Errorf("size %d: status column wide = %v", size, wide)
		}
	}
}

// TestWithStatusSharesChunks checks that a batch copies only the chunks of
// the rows it changes, and the bitmaps of only the values rows move
// between.
func TestWithStatusSharesChunks(t *testing.T) {
	recs, err := synth.Collect(synth.Options{Processes: 3 * chunkSize, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	ix := Build(recs)
	r := ix.Record(chunkSize + 5)
	nx, _ := ix.WithStatus([]record.StatusUpdate{{
		ProcessID: r.ProcessID, ProcessStatus: r.ProcessStatus ^ 1, IsAuto: r.IsAuto,
		ProcInstInfos: []record.ProcInstInfo{{InstID: 1}}, SetProcInstInfos: true,
	}})
	for c := range ix.cols.status.narrow {
		if changed := nx.cols.status.narrow[c] != ix.cols.status.narrow[c]; changed != (c == 1) {
			t.Errorf("status chunk %d copied: %v", c, changed)
		}
		if nx.cols.auto[c] != ix.cols.auto[c] {
			t.Errorf("is_auto chunk %d copied though no is_auto changed", c)
		}
		if (nx.cols.infos[c] != nil) != (c == 1) {
			t.Errorf("infos chunk %d set: %v", c, nx.cols.infos[c] != nil)
		}
	}
	if nx.IsAuto != ix.IsAuto {
		t.Error("is_auto postings copied though no is_auto changed")
	}
	// The row moves between 0 and 1, or 2 and 3: the other values keep
	// their postings.
	for _, v := range ix.Status.values {
		if v != r.ProcessStatus && v != r.ProcessStatus^1 && nx.Status.Get(v) != ix.Status.Get(v) {
			t.Errorf("postings of status %d copied though no row moved from or to it", v)
		}
	}
	if got := nx.Record(chunkSize + 5); got == r || got.ProcessStatus != r.ProcessStatus^1 || len(got.ProcInstInfos) != 1 {
		t.Errorf("updated record %+v", got)
	}
	if !reflect.DeepEqual(nx.Record(chunkSize+6), ix.Record(chunkSize+6)) {
		t.Error("a record no update changed differs")
	}
}

// TestWithStatusConcurrent applies batches to one index from several
// goroutines at once (they share a pool of buffers) and compares each
// result with the same batch applied alone.
func TestWithStatusConcurrent(t *testing.T) {
	recs, err := synth.Collect(synth.Options{Processes: 3000, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	ix := Build(recs)
	model := make([]record.Record, ix.Len())
	for row := range model {
		model[row] = *ix.Record(uint32(row))
	}
	rnd := rand.New(rand.NewPCG(9, 9))
	batches := make([][]record.StatusUpdate, 8)
	for i := range batches {
		batches[i] = randomBatch(rnd, model, 500+rnd.IntN(5000))
	}
	got := make([]*Index, len(batches))
	var wg sync.WaitGroup
	for i, ups := range batches {
		wg.Go(func() { got[i], _ = ix.WithStatus(ups) })
	}
	wg.Wait()
	for i, ups := range batches {
		want, _ := applyNaive(ix, model, ups)
		checkStatus(t, fmt.Sprintf("batch %d", i), got[i], want)
	}
	checkStatus(t, "origin", ix, model)
}
