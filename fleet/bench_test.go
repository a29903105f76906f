package fleet

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/procq/procq/engine"
	"github.com/procq/procq/internal/synth"
	"github.com/procq/procq/record"
	"github.com/procq/procq/store"
)

// The sizes of the fleet benchmarks, from the environment:
//
//	PROCQ_FLEET_BATCHES  batches of BenchmarkReplicationLag (default 2000, at PROCQ_FLEET_RATE a second, default 1000)
//	PROCQ_FLEET_BEHIND   batches a follower of BenchmarkCatchUp starts behind (default 5000)
//	PROCQ_FLEET_SYNC     the followers' store sync policy (default always)
//	PROCQ_BENCH_PROCESSES  records of BenchmarkRestore's snapshot (default 100,000)
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func benchSync(b *testing.B) store.SyncPolicy {
	p, err := store.ParseSyncPolicy(os.Getenv("PROCQ_FLEET_SYNC"))
	if os.Getenv("PROCQ_FLEET_SYNC") == "" {
		return store.SyncAlways
	}
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// statusBatch is n status updates of processes of w's first business,
// as one message body.
func statusBatch(w *world, n, round int) []byte {
	ops := make([]store.Op, n)
	for i := range ops {
		r := w.base[i%len(w.base)]
		ops[i].Status = &record.StatusUpdate{ProcessID: r.ProcessID, ProcessStatus: int64(round % 3), IsAuto: round%2 == 0}
	}
	return encodeOps(ops)
}

// benchReplica is a follower of the stream over a new data directory.
func benchReplica(b *testing.B, c *Conn, w *world, name string) (*store.Store, *Follower) {
	dir := filepath.Join(b.TempDir(), name)
	if err := store.Init(dir, w.snap); err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(dir, store.Options{Sync: benchSync(b), CheckpointBytes: -1})
	if err != nil {
		b.Fatal(err)
	}
	f, err := c.Follow(st, FollowOptions{Name: name})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close(); st.Close() })
	return st, f
}

// BenchmarkReplicationLag publishes PROCQ_FLEET_BATCHES batches of 100
// status updates at PROCQ_FLEET_RATE a second and reports the lag from
// the publish to the follower having applied the batch: p50 and p99.
func BenchmarkReplicationLag(b *testing.B) {
	n, rate := envInt("PROCQ_FLEET_BATCHES", 2000), envInt("PROCQ_FLEET_RATE", 1000)
	c := connect(b, runNATS(b).ClientURL())
	w := newWorld(b, 9)
	for range b.N {
		_, f := benchReplica(b, c, w, "lag"+strconv.Itoa(b.N))
		from := f.Applied()
		sent := make([]time.Time, n)
		applied := make([]time.Time, n)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := range n {
				if err := f.WaitApplied(context.Background(), from+uint64(i)+1); err != nil {
					return
				}
				applied[i] = time.Now()
			}
		}()
		start := time.Now()
		gap := time.Second / time.Duration(rate)
		for i := range n {
			time.Sleep(time.Until(start.Add(time.Duration(i) * gap)))
			sent[i] = time.Now()
			if _, err := c.js.PublishAsync(Subject(w.base[0].BizID), statusBatch(w, 100, i)); err != nil {
				b.Fatal(err)
			}
		}
		<-done
		lags := make([]time.Duration, n)
		for i := range n {
			lags[i] = applied[i].Sub(sent[i])
		}
		slices.Sort(lags)
		b.ReportMetric(float64(lags[n/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lags[(99*n+99)/100-1].Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "batches/s")
	}
}

// BenchmarkCatchUp starts a follower PROCQ_FLEET_BEHIND batches of 10
// status updates behind and reports how fast it catches up.
func BenchmarkCatchUp(b *testing.B) {
	n := envInt("PROCQ_FLEET_BEHIND", 5000)
	c := connect(b, runNATS(b).ClientURL())
	w := newWorld(b, 10)
	var last uint64
	for i := range n {
		fut, err := c.js.PublishAsync(Subject(w.base[0].BizID), statusBatch(w, 10, i))
		if err != nil {
			b.Fatal(err)
		}
		if i == n-1 {
			select {
			case ack := <-fut.Ok():
				last = ack.Sequence
			case err := <-fut.Err():
				b.Fatal(err)
			}
		}
	}
	<-c.js.PublishAsyncComplete()
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		_, f := benchReplica(b, c, w, "catchup"+strconv.Itoa(i))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		if err := f.WaitApplied(ctx, last); err != nil {
			b.Fatal(err)
		}
		cancel()
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "batches/s")
	}
}

// BenchmarkRestore uploads a snapshot of PROCQ_BENCH_PROCESSES records and
// reports the time a replica with an empty data directory takes to
// restore it (download, check, data directory made) and open it.
func BenchmarkRestore(b *testing.B) {
	c, err := Connect(context.Background(), Options{URL: runNATS(b).ClientURL(), Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Close)
	// A version 2 snapshot, as gen, import and checkpoints write.
	snap := filepath.Join(b.TempDir(), "bench.snap")
	recs, err := synth.Collect(synth.Options{Processes: synth.BenchProcesses(), Seed: synth.DefaultSeed})
	if err != nil {
		b.Fatal(err)
	}
	e, err := engine.New(recs)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := e.WriteSnapshot(ctx, snap); err != nil {
		b.Fatal(err)
	}
	recs, e = nil, nil
	runtime.GC()
	if _, err := c.PublishSnapshot(ctx, snap, 1); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		dir := filepath.Join(b.TempDir(), "r"+strconv.Itoa(i))
		start := time.Now()
		if _, err := c.Prepare(ctx, dir, nil); err != nil {
			b.Fatal(err)
		}
		restored := time.Since(start)
		st, err := store.Open(dir, store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(restored.Seconds(), "restore-s")
		b.ReportMetric(time.Since(start).Seconds(), "restore+open-s")
		st.Close()
	}
}
