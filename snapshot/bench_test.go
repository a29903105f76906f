package snapshot

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/procq/procq/record"
)

func benchWrite(b *testing.B, n int) {
	recs := genRecords(n, 42)
	path := filepath.Join(b.TempDir(), "bench.snap")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := WriteAll(path, recs); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(st.Size())/float64(n), "file-B/rec")
}

// benchRead reads n records, keeping them all as an engine would. The
// records written are not kept alive, so the garbage collector sees only
// what a loading program would.
func benchRead(b *testing.B, n int) {
	path := filepath.Join(b.TempDir(), "bench.snap")
	if err := WriteAll(path, genRecords(n, 42)); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	keep := make([]*record.Record, 0, n)
	b.SetBytes(st.Size())
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		// Start each load from a clean heap, as a program loading once would.
		b.StopTimer()
		clear(keep)
		keep = keep[:0]
		runtime.GC()
		b.StartTimer()
		if _, err := Read(path, func(r *record.Record) error {
			keep = append(keep, r)
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(st.Size())/float64(n), "file-B/rec")
}

func BenchmarkWrite100k(b *testing.B) { benchWrite(b, 100_000) }
func BenchmarkRead100k(b *testing.B)  { benchRead(b, 100_000) }
func BenchmarkWrite1M(b *testing.B)   { benchWrite(b, 1_000_000) }
func BenchmarkRead1M(b *testing.B)    { benchRead(b, 1_000_000) }
