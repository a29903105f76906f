package engine

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/procq/procq/internal/synth"
	"github.com/procq/procq/record"
)

// BenchmarkMemoryPerRecord builds an engine from PROCQ_BENCH_PROCESSES
// synth records (default 100000), drops the records, and reports what the
// engine keeps per record after a full GC: live heap objects, the heap the
// collector has to scan, the process's RSS after FreeOSMemory (the whole
// test binary, so an upper bound), and how long one forced GC takes. It
// then applies 1,000 single upserts and ten status batches of 100,000
// (or of every process, when fewer) and reports the heap and RSS per
// record again: what a day of writes adds before a merge.
//
//	PROCQ_BENCH_PROCESSES=1000000 go test ./engine -run '^$' -bench MemoryPerRecord -benchtime 1x
func BenchmarkMemoryPerRecord(b *testing.B) {
	n := synth.BenchProcesses()
	for b.Loop() {
		recs, err := synth.Collect(synth.Options{Processes: n, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		e, err := New(recs)
		if err != nil {
			b.Fatal(err)
		}
		// recs is dead from here: New keeps no record.
		runtime.GC()
		start := time.Now()
		runtime.GC()
		gc := time.Since(start)
		debug.FreeOSMemory()
		s := []rtmetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/scan/heap:bytes"}}
		rtmetrics.Read(s)
		per := func(v uint64) float64 { return float64(v) / float64(e.Len()) }
		b.ReportMetric(per(s[0].Value.Uint64()), "heap-B/record")
		b.ReportMetric(per(s[1].Value.Uint64()), "gcscan-B/record")
		b.ReportMetric(per(vmRSS(b)), "rss-B/record")
		b.ReportMetric(float64(gc.Milliseconds()), "gc-ms")

		e = applyWrites(b, e, 1000, 10, 100000)
		runtime.GC()
		debug.FreeOSMemory()
		rtmetrics.Read(s)
		b.ReportMetric(per(s[0].Value.Uint64()), "heap-after-writes-B/record")
		b.ReportMetric(per(vmRSS(b)), "rss-after-writes-B/record")
		runtime.KeepAlive(e)
	}
}

// applyWrites returns e after ups single upserts, each moving a base
// process to another module, and batches status batches of size updates
// each (at most one per process), flipping process_status.
func applyWrites(b *testing.B, e *Engine, ups, batches, size int) *Engine {
	b.Helper()
	n := e.ix.Len()
	for i := range ups {
		r := *e.ix.Record(uint32(i * (n / ups) % n))
		r.ModuleID++
		var err error
		if e, err = e.WithChanges([]*record.Record{&r}, nil); err != nil {
			b.Fatal(err)
		}
	}
	size = min(size, n)
	batch := make([]record.StatusUpdate, size)
	for k := range batches {
		for i := range batch {
			row := uint32((k*size + i) % n)
			batch[i] = record.StatusUpdate{ProcessID: e.ix.ProcessID(row), ProcessStatus: int64(1 + (k+i)%2), IsAuto: i%3 == 0}
		}
		e, _ = e.WithStatus(batch)
	}
	return e
}

// vmRSS returns the process's resident set size from /proc/self/status.
func vmRSS(b *testing.B) uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status:", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmRSS in /proc/self/status")
	return 0
}
