package index

import (
	"runtime"
	"testing"
)

// loopCPU runs f in b.Loop on one locked thread and reports the thread's
// CPU time per op as cpu-ns/op: on a machine shared with other work the
// wall time counts the time the benchmark waits for a core, this does
// not (it still counts the cache misses other work causes). Where the
// thread's CPU time is not known (threadCPU), it reports nothing more
// than b.Loop does.
func loopCPU(b *testing.B, f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start, ok := threadCPU()
	n := 0
	for b.Loop() {
		f()
		n++
	}
	if end, ok2 := threadCPU(); ok && ok2 && n > 0 {
		b.ReportMetric(float64(end-start)/float64(n), "cpu-ns/op")
	}
}
