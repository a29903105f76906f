package index

import (
	"testing"

	"github.com/procq/procq/internal/synth"
)

// BenchmarkBuild indexes a synth data set of PROCQ_BENCH_PROCESSES
// processes (default 100000):
// PROCQ_BENCH_PROCESSES=1000000 go test ./index -run '^$' -bench Build -count 6
func BenchmarkBuild(b *testing.B) {
	n := synth.BenchProcesses()
	recs, err := synth.Collect(synth.Options{Processes: n, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	ix := Build(recs) // sorts recs: every timed Build starts from topology order
	for _, d := range []struct {
		name string
		t    *StrTerms
	}{{"set", ix.SetName}, {"module", ix.ModuleName}, {"service", ix.ServiceName}, {"process", ix.ProcessName}, {"ip", ix.InnerIP}, {"cloud", ix.CloudName}} {
		b.Logf("%s: %d terms", d.name, d.t.Len())
	}
	b.ReportAllocs()
	for b.Loop() {
		Build(recs)
	}
}
