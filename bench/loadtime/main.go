// Command loadtime times what a fresh process pays to load a snapshot and
// to answer its first requests: the figures docs/BENCHMARKS.md gives for
// snapshot loads and for the page faults of a fresh heap.
//
//	go run ./bench/loadtime FILE                     # one load
//	go run ./bench/loadtime -requests REQ.jsonl FILE # then rounds of requests
//
// A load prints its wall, user and system time, minor page faults and the
// process's peak RSS, then its RSS after a collection (Linux; not with
// -pretouch, whose touched pages that collection would hand back). With -requests, each round answers every request
// -n times, rounds alternating between Engine.Do (a fresh answer buffer)
// and Engine.DoWith into one reused buffer, printing the mean time and
// page faults a request of each round. With -each, every request is
// then timed on its own: its first answer in this process (cold, the
// term cache empty unless an earlier request filled it) and the p50 and
// p99 of -n more, into a reused buffer, one line a request.
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/procq/procq/engine"
	"github.com/procq/procq/pretouch"
	"github.com/procq/procq/workload"
)

func main() {
	reqPath := flag.String("requests", "", "JSON Lines `FILE` of request bodies to answer after the load")
	rounds := flag.Int("rounds", 6, "rounds of requests")
	n := flag.Int("n", 200, "answers of each request a round")
	each := flag.Bool("each", false, "time every request on its own (first answer, then p50 and p99 of -n) instead of rounds")
	touch := flag.Bool("pretouch", false, "after the load, touch the heap's headroom (pretouch.Heap), as procq serve does")
	rss := flag.Bool("rss", true, "after the load, collect, hand free memory back and print the RSS and a collection's time (skipped with -pretouch)")
	sizes = flag.Bool("sizes", false, "with the RSS, print engine.IndexSizes per record")
	cpuProfile = flag.String("cpuprofile", "", "write a CPU profile of answering the requests to `FILE`")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: loadtime [-requests FILE [-rounds R] [-n N]] SNAPSHOT")
		os.Exit(2)
	}
	if *each {
		*rounds = 0
	}
	if err := run(flag.Arg(0), *reqPath, *rounds, *n, *each, *touch, *rss && !*touch); err != nil {
		fmt.Fprintln(os.Stderr, "loadtime:", err)
		os.Exit(1)
	}
}

// readRequests returns the request bodies of the log at path, read as
// procq loadtest reads it (workload.ReadLog), or none when path is "".
func readRequests(path string) ([][]byte, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	log, err := workload.ReadLog(f, path)
	reqs := make([][]byte, len(log))
	for i, r := range log {
		reqs[i] = r.Body
	}
	return reqs, err
}

func run(path, reqPath string, rounds, n int, each, touch, rss bool) error {
	reqs, err := readRequests(reqPath)
	if err != nil {
		return err
	}
	var e *engine.Engine
	wall, cpu := measure(func() (err error) { e, err = engine.Load(path); return err })
	if e == nil {
		return cpu.err
	}
	fmt.Printf("load %v user %v sys %v minflt %d maxrss %d MB records %d\n",
		wall.Round(time.Millisecond), cpu.user.Round(time.Millisecond), cpu.sys.Round(time.Millisecond), cpu.minflt, cpu.maxrssMB, e.Len())
	// FreeOSMemory hands the free heap back, which a pretouch would have
	// to fault in again: measure one or the other.
	if rss {
		printResidence(e)
	}
	if touch {
		var touched uint64
		wall, cpu := measure(func() error { touched = pretouch.Heap(0); return nil })
		fmt.Printf("pretouch %d MB in %v user %v sys %v minflt %d\n", touched>>20, wall.Round(time.Millisecond), cpu.user.Round(time.Millisecond), cpu.sys.Round(time.Millisecond), cpu.minflt)
	}
	if len(reqs) == 0 {
		return nil
	}
	ctx := context.Background()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if each {
		return timeEach(ctx, e, reqs, n)
	}
	var buf []byte
	for round := range rounds {
		reuse := round%2 == 1
		wall, cpu := measure(func() error {
			for range n {
				for _, r := range reqs {
					resp, err := doOne(ctx, e, r, reuse, buf)
					if err != nil {
						return err
					}
					if reuse {
						buf = resp
					}
				}
			}
			return nil
		})
		if cpu.err != nil {
			return cpu.err
		}
		answers := int64(max(n, 1) * len(reqs))
		fmt.Printf("round %d reused-buffer=%v %v/request minflt/request %d\n",
			round, reuse, (wall / time.Duration(answers)).Round(time.Microsecond), cpu.minflt/answers)
	}
	return nil
}

// timeEach prints, for each request, its first answer's time and minor
// page faults, and the p50, p99 and max of n more.
func timeEach(ctx context.Context, e *engine.Engine, reqs [][]byte, n int) error {
	var buf []byte
	took := make([]time.Duration, max(n, 1))
	for _, r := range reqs {
		var resp []byte
		first, u := measure(func() (err error) {
			resp, err = e.DoWith(ctx, r, engine.DoOptions{Buf: buf})
			return err
		})
		if u.err != nil {
			return u.err
		}
		buf = resp
		for i := range took {
			start := time.Now()
			out, err := e.DoWith(ctx, r, engine.DoOptions{Buf: buf})
			if err != nil {
				return err
			}
			took[i], buf = time.Since(start), out
		}
		slices.Sort(took)
		us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
		fmt.Printf("first %8.0f us (cpu %5.0f us) %5d faults  p50 %7.0f us  p99 %7.0f us  max %7.0f us  %s\n",
			us(first), us(u.user+u.sys), u.minflt, us(took[len(took)/2]), us(took[len(took)*99/100]), us(took[len(took)-1]), r)
	}
	return nil
}

// doOne answers body, into buf when reuse is set.
func doOne(ctx context.Context, e *engine.Engine, body []byte, reuse bool, buf []byte) ([]byte, error) {
	if reuse {
		return e.DoWith(ctx, body, engine.DoOptions{Buf: buf})
	}
	return e.Do(ctx, body)
}

// sizes is the -sizes flag.
var sizes *bool

// cpuProfile is the -cpuprofile flag.
var cpuProfile *string

// sizeRow is one index's bytes.
type sizeRow struct {
	name  string
	bytes uint64
}

// sortedSizes returns sizes, largest first.
func sortedSizes(m map[string]uint64) []sizeRow {
	out := make([]sizeRow, 0, len(m))
	for k, v := range m {
		out = append(out, sizeRow{k, v})
	}
	slices.SortFunc(out, func(a, b sizeRow) int { return cmp.Compare(b.bytes, a.bytes) })
	return out
}

// residentAfterGC returns the process's resident set (VmRSS, Linux) after
// a collection that returns freed memory to the system: what the loaded
// engine holds, without the load's garbage.
func residentAfterGC() (uint64, bool) {
	runtime.GC()
	debug.FreeOSMemory()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}

// usage is what getrusage says a piece of work cost.
type usage struct {
	user, sys time.Duration
	minflt    int64
	maxrssMB  int64
	err       error
}

// measure runs f and returns its wall time and the process's usage over it.
func measure(f func() error) (time.Duration, usage) {
	var r0, r1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
	start := time.Now()
	err := f()
	wall := time.Since(start)
	syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
	ns := func(t syscall.Timeval) time.Duration { return time.Duration(syscall.TimevalToNsec(t)) }
	return wall, usage{
		user:     ns(r1.Utime) - ns(r0.Utime),
		sys:      ns(r1.Stime) - ns(r0.Stime),
		minflt:   r1.Minflt - r0.Minflt,
		maxrssMB: r1.Maxrss >> 10,
		err:      err,
	}
}

// printResidence prints the RSS of the loaded engine e after a
// collection, what a collection costs, and with -sizes its index sizes.
func printResidence(e *engine.Engine) {
	if b, ok := residentAfterGC(); ok && e.Len() > 0 {
		fmt.Printf("rss after load and a collection %d MB, %d B/record\n", b>>20, b/uint64(e.Len()))
	}
	// What a collection of the loaded heap costs: the mark work
	// each GC cycle repeats while the engine serves.
	var ms runtime.MemStats
	start := time.Now()
	runtime.GC()
	took := time.Since(start)
	runtime.ReadMemStats(&ms)
	fmt.Printf("a forced collection %v, %d heap objects\n", took.Round(time.Millisecond/10), ms.HeapObjects)
	if *sizes && e.Len() > 0 {
		for _, kv := range sortedSizes(e.IndexSizes()) {
			fmt.Printf("  %-20s %6.1f B/record\n", kv.name, float64(kv.bytes)/float64(e.Len()))
		}
	}
}
