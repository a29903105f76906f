package index

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/procq/procq/internal/synth"
)

// BenchmarkPageJSON writes the items of a page of 50 and of 1,000 random
// rows of a synth data set of PROCQ_BENCH_PROCESSES processes (default
// 100000), side by side: "records" materializes them (Records) and writes
// each with record.AppendJSON, as pages were written before;
// "columns" writes each with AppendRowJSON; "batch" writes them all with
// AppendRowsJSON:
// go test ./index -run '^$' -bench PageJSON -count 6
func BenchmarkPageJSON(b *testing.B) {
	recs, err := synth.Collect(synth.Options{Processes: synth.BenchProcesses(), Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	ix := Build(recs)
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{50, 1000} {
		rows := make([]uint32, n)
		for i := range rows {
			rows[i] = uint32(rnd.IntN(ix.Len()))
		}
		slices.Sort(rows)
		buf := make([]byte, 0, 1024*n)
		b.Run(strconv.Itoa(n)+"/records", func(b *testing.B) {
			b.ReportAllocs()
			loopCPU(b, func() {
				buf = buf[:0]
				for _, r := range ix.Records(rows) {
					buf = append(r.AppendJSON(buf, 0), ',')
				}
			})
			b.SetBytes(int64(len(buf)))
		})
		b.Run(strconv.Itoa(n)+"/columns", func(b *testing.B) {
			b.ReportAllocs()
			loopCPU(b, func() {
				buf = buf[:0]
				for _, row := range rows {
					buf = append(ix.AppendRowJSON(buf, row, 0), ',')
				}
			})
			b.SetBytes(int64(len(buf)))
		})
		b.Run(strconv.Itoa(n)+"/batch", func(b *testing.B) {
			b.ReportAllocs()
			loopCPU(b, func() { buf = ix.AppendRowsJSON(buf[:0], rows, 0) })
			b.SetBytes(int64(len(buf)))
		})
	}
}

// BenchmarkFindVerbatim is what finding the dictionaries that need no
// escaping adds to a build or a load:
// PROCQ_BENCH_PROCESSES=1000000 go test ./index -run '^$' -bench FindVerbatim -benchtime 3x
func BenchmarkFindVerbatim(b *testing.B) {
	recs, err := synth.Collect(synth.Options{Processes: synth.BenchProcesses(), Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	ix := Build(recs)
	for b.Loop() {
		ix.findVerbatim()
	}
}
