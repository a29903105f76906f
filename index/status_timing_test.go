package index

import (
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"

	"github.com/procq/procq/internal/synth"
	"github.com/procq/procq/record"
)

// benchIndex is built once per test binary from a synth data set of
// PROCQ_BENCH_PROCESSES processes (default 100000).
var benchIndex = sync.OnceValues(func() (*Index, error) {
	n := synth.BenchProcesses()
	recs, err := synth.Collect(synth.Options{Processes: n, Seed: 1})
	if err != nil {
		return nil, err
	}
	return Build(recs), nil
})

// benchUpdates returns n status updates spread over the rows of ix and
// shuffled (GSE reports by agent, in no useful order): each changes the
// status and flips is_auto, and with infos also replaces proc_inst_infos.
func benchUpdates(ix *Index, n int, infos bool) []record.StatusUpdate {
	ups := make([]record.StatusUpdate, n)
	step := ix.Len() / n
	for i := range ups {
		r := ix.Record(uint32(i * step))
		ups[i] = record.StatusUpdate{ProcessID: r.ProcessID, ProcessStatus: (r.ProcessStatus + 1) % 3, IsAuto: !r.IsAuto}
		if infos {
			ups[i].SetProcInstInfos = true
			ups[i].ProcInstInfos = []record.ProcInstInfo{{ProcessID: r.ProcessID, LocalInstID: 1, InstID: int64(i), ProcessStatus: ups[i].ProcessStatus}}
		}
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(ups), func(i, j int) { ups[i], ups[j] = ups[j], ups[i] })
	return ups
}

// BenchmarkWithStatus applies shuffled status batches of 1k, 10k and 100k
// processes, with and without proc_inst_infos, to an index of
// PROCQ_BENCH_PROCESSES rows.
func BenchmarkWithStatus(b *testing.B) {
	ix, err := benchIndex()
	if err != nil {
		b.Fatal(err)
	}
	for _, infos := range []bool{false, true} {
		for _, n := range []int{1000, 10000, 100000} {
			if n > ix.Len() {
				continue
			}
			ups := benchUpdates(ix, n, infos)
			name := "status/" + strconv.Itoa(n)
			if infos {
				name = "infos/" + strconv.Itoa(n)
			}
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					ix.WithStatus(ups)
				}
			})
		}
	}
}
