package fleet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procq/procq/internal/synth"
	"github.com/procq/procq/record"
	"github.com/procq/procq/snapshot"
	"github.com/procq/procq/store"
)

// waitBound bounds every wait of these tests: a deadline hit is a
// failure, never a measurement.
const waitBound = 15 * time.Second

// runNATS starts an in-process NATS server with JetStream on a temporary
// directory, on a random loopback port.
func runNATS(t testing.TB) *server.Server {
	t.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true,
		StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(waitBound) {
		t.Fatal("NATS server not ready")
	}
	t.Cleanup(ns.Shutdown)
	return ns
}

func connect(t testing.TB, url string) *Conn {
	t.Helper()
	c, err := Connect(context.Background(), Options{URL: url, PublishTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// model is what every replica must hold: bk_process_id to record.
type model map[int64]*record.Record

func (m model) apply(ops []store.Op) {
	for _, op := range ops {
		switch {
		case op.Upsert != nil:
			m[op.Upsert.ProcessID] = op.Upsert
		case op.Delete != 0:
			delete(m, op.Delete)
		default:
			u := op.Status
			r, ok := m[u.ProcessID]
			if !ok {
				continue
			}
			c := *r
			c.ProcessStatus, c.IsAuto = u.ProcessStatus, u.IsAuto
			if u.SetProcInstInfos {
				c.ProcInstInfos = u.ProcInstInfos
			}
			m[u.ProcessID] = &c
		}
	}
}

// digest is the records of m of the businesses biz (all when empty), as
// sorted JSON lines.
func (m model) digest(biz []int64) string {
	var lines []string
	for _, r := range m {
		if len(biz) == 0 || slices.Contains(biz, r.BizID) {
			lines = append(lines, string(r.AppendJSON(nil, 0)))
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// storeDigest is the records a store serves, as model.digest writes them.
func storeDigest(st *store.Store) string {
	var lines []string
	st.Engine().Records(func(r *record.Record) bool {
		lines = append(lines, string(r.AppendJSON(nil, 0)))
		return true
	})
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// world is a base data set, its model, and random batches over it.
type world struct {
	base []*record.Record
	m    model
	biz  []int64
	rng  *rand.Rand
	snap string
}

func newWorld(t testing.TB, seed uint64) *world {
	w := &world{m: model{}, rng: rand.New(rand.NewPCG(seed, seed))}
	err := synth.Generate(synth.Options{Processes: 300, Seed: int64(seed)}, func(r *record.Record) error {
		w.base = append(w.base, r)
		w.m[r.ProcessID] = r
		if !slices.Contains(w.biz, r.BizID) {
			w.biz = append(w.biz, r.BizID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(w.biz) < 2 {
		t.Fatalf("the data set has %d businesses; the tests want several", len(w.biz))
	}
	w.snap = filepath.Join(t.TempDir(), "base.snap")
	sw, err := snapshot.Create(w.snap)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range w.base {
		if err := sw.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Commit(); err != nil {
		t.Fatal(err)
	}
	return w
}

// batch returns a random batch over several businesses, applied to the
// model.
func (w *world) batch() []store.Op {
	var ops []store.Op
	pids := slices.Sorted(maps.Keys(w.m))
	for range 1 + w.rng.IntN(12) {
		pid := pids[w.rng.IntN(len(pids))]
		switch w.rng.IntN(4) {
		case 0:
			c := *w.base[w.rng.IntN(len(w.base))]
			c.ProcessID = 1_000_000 + w.rng.Int64N(200)
			c.BizID = w.biz[w.rng.IntN(len(w.biz))]
			if old, ok := w.m[c.ProcessID]; ok {
				c.BizID = old.BizID // a process stays in its business
			}
			c.ProcessName = fmt.Sprintf("p%d", w.rng.IntN(50))
			ops = append(ops, store.Op{Upsert: &c})
		case 1:
			ops = append(ops, store.Op{Delete: pid})
		default:
			u := &record.StatusUpdate{ProcessID: pid, ProcessStatus: int64(w.rng.IntN(3)), IsAuto: w.rng.IntN(2) == 0}
			if w.rng.IntN(2) == 0 {
				u.SetProcInstInfos = true
				u.ProcInstInfos = []record.ProcInstInfo{{ProcessID: pid, LocalInstID: 1, InstID: w.rng.Int64N(99), ProcessStatus: u.ProcessStatus}}
			}
			ops = append(ops, store.Op{Status: u})
		}
	}
	w.m.apply(ops)
	return ops
}

// publish publishes n random batches and returns the last stream
// sequence; every other batch goes without a lookup of businesses (as
// procq publish sends it).
func (w *world) publish(t *testing.T, c *Conn, n int) uint64 {
	t.Helper()
	var last uint64
	for i := range n {
		// A writer looks up the data as it was before the batch.
		before := maps.Clone(w.m)
		ops := w.batch()
		var lookup BizLookup
		if i%2 == 0 {
			lookup = func(pid int64) (int64, bool) {
				r, ok := before[pid]
				if !ok {
					return 0, false
				}
				return r.BizID, true
			}
		}
		res, err := c.Publish(context.Background(), ops, lookup)
		if err != nil {
			t.Fatal(err)
		}
		last = res.Seq
	}
	return last
}

// replica is a data directory following the stream.
type replica struct {
	dir string
	st  *store.Store
	f   *Follower
}

func startReplica(t *testing.T, c *Conn, dir, name string, biz []int64) *replica {
	t.Helper()
	if _, err := c.Prepare(context.Background(), dir, biz); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(dir, store.Options{CheckpointBytes: -1, Sync: store.SyncNever})
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.Follow(st, FollowOptions{Name: name, Biz: biz, RetryWait: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r := &replica{dir: dir, st: st, f: f}
	t.Cleanup(r.stop)
	return r
}

func (r *replica) stop() {
	if r.f != nil {
		r.f.Close()
		r.st.Close()
		r.f = nil
	}
}

// waitFor waits until the replica has applied seq.
func (r *replica) waitFor(t *testing.T, seq uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	if err := r.f.WaitApplied(ctx, seq); err != nil {
		t.Fatalf("replica %s: applied %d, want %d: %v (health: %v)", r.dir, r.f.Applied(), seq, err, r.f.Health())
	}
}

// newFleet starts a NATS server, connects to it, and seeds the bucket
// with the snapshot of a new world of seed.
func newFleet(t *testing.T, seed uint64) (*server.Server, *Conn, *world) {
	t.Helper()
	ns := runNATS(t)
	c := connect(t, ns.ClientURL())
	w := newWorld(t, seed)
	if _, err := c.PublishSnapshot(context.Background(), w.snap, 0); err != nil {
		t.Fatal(err)
	}
	return ns, c, w
}

func TestFollowersConverge(t *testing.T) {
	_, c, w := newFleet(t, 1)
	tmp := t.TempDir()
	a := startReplica(t, c, filepath.Join(tmp, "a"), "a", nil)
	b := startReplica(t, c, filepath.Join(tmp, "b"), "b", nil)
	last := w.publish(t, c, 40)
	want := w.m.digest(nil)
	for _, r := range []*replica{a, b} {
		r.waitFor(t, last)
		if got := storeDigest(r.st); got != want {
			t.Fatalf("replica %s differs from the writer's data", r.dir)
		}
		if pos, _ := r.st.StreamSeq(); pos != last {
			t.Fatalf("replica %s journaled stream position %d, want %d", r.dir, pos, last)
		}
	}
}

// TestFollowerRestart: a follower stopped mid-stream resumes from its own
// journal: every message is applied exactly once over the two runs.
func TestFollowerRestart(t *testing.T) {
	_, c, w := newFleet(t, 2)
	last := w.publish(t, c, 60)
	dir := filepath.Join(t.TempDir(), "r")
	r := startReplica(t, c, dir, "r", nil)
	r.waitFor(t, last/2)
	applied1 := r.f.Applied()
	r.stop()
	r2 := startReplica(t, c, dir, "r", nil)
	if got := r2.f.Applied(); got != applied1 {
		t.Fatalf("restarted at %d, want %d (journaled)", got, applied1)
	}
	r2.waitFor(t, last)
	if got := r2.f.AppliedTotal(); got != last-applied1 {
		t.Fatalf("second run applied %d messages, want %d (%d..%d): some applied twice or skipped", got, last-applied1, applied1+1, last)
	}
	if storeDigest(r2.st) != w.m.digest(nil) {
		t.Fatal("restarted replica differs from the writer's data")
	}
}

// TestLateFollowerRestores: a replica started after the stream was
// trimmed restores the uploaded checkpoint and catches up.
func TestLateFollowerRestores(t *testing.T) {
	_, c, w := newFleet(t, 3)
	tmp := t.TempDir()
	ctx := context.Background()
	if _, err := c.Prepare(ctx, filepath.Join(tmp, "a"), nil); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(tmp, "a"), store.Options{CheckpointBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.Follow(st, FollowOptions{Name: "a", PublishCheckpoints: true})
	if err != nil {
		t.Fatal(err)
	}
	a := &replica{dir: filepath.Join(tmp, "a"), st: st, f: f}
	t.Cleanup(a.stop)
	// old follows the first batches, then stops.
	old := startReplica(t, c, filepath.Join(tmp, "old"), "old", nil)
	old.waitFor(t, w.publish(t, c, 3))
	old.stop()
	mid := w.publish(t, c, 20)
	a.waitFor(t, mid)
	if _, err := st.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	// The next message applied uploads the checkpoint.
	last := w.publish(t, c, 1)
	a.waitFor(t, last)
	waitSnapshot(t, c, mid)
	// Retention drops what the snapshot covers.
	s, err := c.js.Stream(ctx, c.opts.Stream)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Purge(ctx, jetstream.WithPurgeSequence(mid+1)); err != nil {
		t.Fatal(err)
	}
	last = w.publish(t, c, 10)
	late := startReplica(t, c, filepath.Join(tmp, "late"), "late", nil)
	late.waitFor(t, last)
	if storeDigest(late.st) != w.m.digest(nil) {
		t.Fatal("late replica differs from the writer's data")
	}
	if got := late.f.AppliedTotal(); got != last-mid {
		t.Fatalf("late replica applied %d messages, want %d (after the snapshot's %d)", got, last-mid, mid)
	}
	// old, behind the stream's first message, restores too and keeps its
	// directory aside.
	old = startReplica(t, c, old.dir, "old", nil)
	old.waitFor(t, last)
	if storeDigest(old.st) != w.m.digest(nil) || old.f.AppliedTotal() != last-mid {
		t.Fatalf("replica behind: applied %d messages after the restore, want %d", old.f.AppliedTotal(), last-mid)
	}
	if aside, _ := filepath.Glob(old.dir + ".behind-*"); len(aside) != 1 {
		t.Fatalf("replica behind: directories kept aside %v, want one", aside)
	}
}

// waitSnapshot polls the bucket until its snapshot covers seq.
func waitSnapshot(t *testing.T, c *Conn, seq uint64) {
	t.Helper()
	deadline := time.Now().Add(waitBound)
	for {
		info, ok, err := c.Snapshot(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if ok && info.StreamSeq >= seq {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("bucket snapshot covers %d, want %d", info.StreamSeq, seq)
		}
		time.Sleep(10 * time.Millisecond) // polling state, bounded by the deadline
	}
}

// TestBizFollower: a replica of some businesses holds exactly those.
func TestBizFollower(t *testing.T) {
	_, c, w := newFleet(t, 4)
	biz := w.biz[:1]
	r := startReplica(t, c, filepath.Join(t.TempDir(), "b"), "b", biz)
	last := w.publish(t, c, 30)
	// The replica's last message may come before last: wait for the
	// last message of its subjects.
	want := w.m.digest(biz)
	s, err := c.js.Stream(context.Background(), c.opts.Stream)
	if err != nil {
		t.Fatal(err)
	}
	var lastOfBiz uint64
	for _, subj := range []string{Subject(biz[0]), SubjectAny} {
		m, err := s.GetLastMsgForSubject(context.Background(), subj)
		if err == nil {
			lastOfBiz = max(lastOfBiz, m.Sequence)
		}
	}
	if lastOfBiz == 0 || lastOfBiz > last {
		t.Fatalf("last message of business %d: %d", biz[0], lastOfBiz)
	}
	r.waitFor(t, lastOfBiz)
	if storeDigest(r.st) != want {
		t.Fatalf("replica of business %d holds other data than the writer's records of it", biz[0])
	}
	r.st.Engine().Records(func(rec *record.Record) bool {
		if rec.BizID != biz[0] {
			t.Fatalf("replica of business %d holds bk_process_id %d of business %d", biz[0], rec.ProcessID, rec.BizID)
		}
		return true
	})
}

// TestPublishWhileDown: with NATS gone a publish fails with
// ErrNotPublished, and what was acknowledged before stays.
func TestPublishWhileDown(t *testing.T) {
	ns := runNATS(t)
	c := connect(t, ns.ClientURL())
	w := newWorld(t, 5)
	last := w.publish(t, c, 3)
	if last < 3 {
		t.Fatalf("3 batches acknowledged up to stream sequence %d", last)
	}
	ns.Shutdown()
	ns.WaitForShutdown()
	_, err := c.Publish(context.Background(), w.batch(), nil)
	if !errors.Is(err, ErrNotPublished) {
		t.Fatalf("publish with NATS down: %v, want ErrNotPublished", err)
	}
	if !strings.Contains(err.Error(), "not published") {
		t.Fatalf("error %q does not say the write was not published", err)
	}
}

func TestEncodeParses(t *testing.T) {
	w := newWorld(t, 6)
	for range 50 {
		ops := w.batch()
		got, err := decodeOps(encodeOps(ops), 1)
		if err != nil {
			t.Fatal(err)
		}
		if a, b := encodeOps(got), encodeOps(ops); !bytes.Equal(a, b) {
			t.Fatalf("round trip changed the batch:\n%s\n%s", a, b)
		}
	}
}

// TestInvalidMessageSkipped: a message that is not a valid batch, alone
// or among valid ones, is skipped and the replica goes on past it.
func TestInvalidMessageSkipped(t *testing.T) {
	_, c, w := newFleet(t, 8)
	w.publish(t, c, 3)
	for _, bad := range []string{"not json\n", `{"op":"upsert","record":{"bk_process_id":-1}}` + "\n"} {
		if _, err := c.js.Publish(context.Background(), Subject(w.biz[0]), []byte(bad)); err != nil {
			t.Fatal(err)
		}
	}
	last := w.publish(t, c, 3)
	r := startReplica(t, c, filepath.Join(t.TempDir(), "r"), "r", nil)
	r.waitFor(t, last)
	if storeDigest(r.st) != w.m.digest(nil) {
		t.Fatal("replica differs from the writer's data after skipping the invalid messages")
	}
	if got := r.f.AppliedTotal(); got != last {
		t.Fatalf("applied %d messages, want %d (the invalid ones count as applied)", got, last)
	}
}

// FuzzDecodeOps: a message body decodes to ops or an error, never a
// panic, and ops decoded re-encode to a body that decodes to the same.
func FuzzDecodeOps(f *testing.F) {
	w := newWorld(f, 12)
	for range 5 {
		f.Add(encodeOps(w.batch()))
	}
	f.Add([]byte(`{"op":"delete","bk_process_ids":[1,2]}` + "\n\n" + `{"op":"status","updates":[{"bk_process_id":3,"process_status":1,"is_auto":false,"proc_inst_infos":[]}]}`))
	f.Add([]byte("{\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ops, err := decodeOps(data, 1)
		if err != nil {
			return
		}
		body := encodeOps(ops)
		again, err := decodeOps(body, 1)
		if err != nil {
			t.Fatalf("re-encoded body does not decode: %v\n%s", err, body)
		}
		if b := encodeOps(again); !bytes.Equal(b, body) {
			t.Fatalf("round trip changed the ops:\n%s\n%s", body, b)
		}
	})
}
