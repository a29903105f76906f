// Package pretouch writes, once, the memory the Go heap grows into after a
// snapshot load, so that the requests that follow reuse resident pages
// instead of faulting in fresh ones.
//
// After a load the heap holds the index and little garbage; until it first
// reaches its collection goal (about twice the live heap with GOGC=100),
// every allocation lands on a page never touched, and each 4 KB page costs
// a fault: on a busy virtual machine tens of microseconds, so a request
// allocating 300 KB paid milliseconds for the first few hundred requests
// after a load. Heap allocates the heap's headroom in large blocks,
// touching each page under transparent-huge-page advice (one fault per
// 2 MB), drops the blocks and collects once: the pages stay resident and
// free, and the runtime keeps them (its scavenger returns memory only past
// about 110% of the goal). The cost is resident memory the process would
// reach anyway under traffic, taken at start: the JVM's AlwaysPreTouch.
package pretouch

import (
	"runtime"
	"runtime/metrics"

	"github.com/procq/procq/internal/hugepage"
)

// block is the size of one allocation Heap touches: a multiple of the
// huge page, large enough that each block is its own span.
const block = 4 << 20

// page is the base page size the touch strides by.
const page = 4 << 10

// Heap collects, touches the heap's headroom up to the collection goal
// that follows, collects again, and returns the bytes touched. limit, when not zero,
// caps them.
func Heap(limit uint64) uint64 {
	runtime.GC() // the goal then follows the live heap, not a load's garbage
	samples := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(samples)
	goal, used := samples[0].Value.Uint64(), samples[1].Value.Uint64()
	if samples[0].Value.Kind() != metrics.KindUint64 || samples[1].Value.Kind() != metrics.KindUint64 || goal <= used {
		return 0
	}
	// Nine tenths: the scavenger hands back what lies past its own
	// target near the goal, and pages it takes back fault again.
	room := (goal - used) / 10 * 9
	if limit > 0 {
		room = min(room, limit)
	}
	blocks := make([][]byte, 0, room/block)
	for range room / block {
		b := make([]byte, block)
		done := hugepage.Advise(b)
		for i := 0; i < len(b); i += page {
			b[i] = 1
		}
		done()
		blocks = append(blocks, b)
	}
	touched := uint64(len(blocks)) * block
	clear(blocks) // garbage now: the collection frees their pages for what follows
	runtime.GC()
	return touched
}
