package pretouch

import (
	"runtime"
	"runtime/metrics"
	"testing"
)

// TestHeapTouchesTheHeadroom: with a live heap, Heap touches whole blocks
// up to the collection goal (or the limit), and afterwards the runtime
// holds those bytes as free, resident heap memory, not returned to the
// system.
func TestHeapTouchesTheHeadroom(t *testing.T) {
	live := make([][]byte, 64)
	for i := range live {
		live[i] = make([]byte, 1<<20)
	}
	if got := Heap(3 * block); got != 3*block {
		t.Fatalf("Heap(limit 3 blocks) touched %d bytes, want %d", got, 3*block)
	}
	touched := Heap(0)
	if touched < 32<<20 {
		t.Fatalf("Heap touched %d bytes with 64 MiB live, want about the headroom to the goal", touched)
	}
	s := []metrics.Sample{{Name: "/memory/classes/heap/free:bytes"}}
	metrics.Read(s)
	if free := s[0].Value.Uint64(); free < touched/2 {
		t.Fatalf("after Heap, %d bytes of the heap are free and resident, want most of the %d touched", free, touched)
	}
	runtime.KeepAlive(live)
}
