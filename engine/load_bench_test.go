package engine

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/procq/procq/internal/synth"
	"github.com/procq/procq/snapshot"
)

// BenchmarkLoad loads a snapshot of PROCQ_BENCH_PROCESSES synth records
// (default 100000) written as version 1 (records: Load indexes them) and
// as version 2 (the image of the indexes: Load reads them), and reports
// the file size, the process's RSS per record after the load (after
// FreeOSMemory; the whole test binary, so an upper bound: run one version
// per process) and the time of writing the version 2 file. Run one
// version per process for the RSS:
//
//	PROCQ_BENCH_PROCESSES=1000000 go test ./engine -run '^$' -bench 'Load/v2' -benchtime 3x
func BenchmarkLoad(b *testing.B) {
	for _, v := range []uint32{snapshot.Version, snapshot.VersionIndex} {
		b.Run("v"+string(rune('0'+v)), func(b *testing.B) {
			path, write := benchSnapshot(b, v)
			st, err := os.Stat(path)
			if err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			debug.FreeOSMemory()
			var e *Engine
			for b.Loop() {
				e = nil
				if e, err = Load(path); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			runtime.GC()
			debug.FreeOSMemory()
			per := func(v uint64) float64 { return float64(v) / float64(e.Len()) }
			b.ReportMetric(per(uint64(st.Size())), "file-B/record")
			b.ReportMetric(per(vmRSS(b)), "rss-B/record")
			if write > 0 {
				b.ReportMetric(float64(write.Milliseconds()), "write-ms")
			}
			runtime.KeepAlive(e)
		})
	}
}

// benchSnapshot writes the benchmark data set as a snapshot of version v
// and returns its path and, for version 2, how long WriteSnapshot took.
func benchSnapshot(b *testing.B, v uint32) (string, time.Duration) {
	b.Helper()
	recs, err := synth.Collect(synth.Options{Processes: synth.BenchProcesses(), Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "bench.snap")
	if v == snapshot.Version {
		w, err := snapshot.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range recs {
			if err := w.Append(r); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Commit(); err != nil {
			b.Fatal(err)
		}
		return path, 0
	}
	e, err := New(recs)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := e.WriteSnapshot(context.Background(), path); err != nil {
		b.Fatal(err)
	}
	return path, time.Since(start)
}
