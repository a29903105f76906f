package store

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/procq/procq/internal/synth"
	"github.com/procq/procq/record"
)

// TestModel applies a seeded random sequence of upserts, deletes, status
// batches, mixed batches, checkpoints and reopens to a store and to a
// plain map, and checks after every step that the store holds the map's
// records and answers requests as an engine built afresh from the map.
func TestModel(t *testing.T) {
	ctx := context.Background()
	base := baseRecords(t, baseOptions)
	reqs, err := synth.Requests(baseOptions, 6, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, seed := range []uint64{1, 2} {
		rng := rand.New(rand.NewPCG(seed, 99))
		var dir string
		m := model{}
		if seed%2 == 1 {
			dir, m = initDir(t, base), newModel(base)
		} else {
			dir = initDir(t, nil)
		}
		g := newGen(base)
		// A small checkpoint size makes automatic checkpoints happen too.
		opts := Options{CheckpointBytes: 64 << 10, Sync: SyncPolicy(rng.IntN(3))}
		s := mustOpen(t, dir, opts)
		for step := range 45 {
			var what string
			switch k := rng.IntN(20); {
			case k == 0:
				what = "checkpoint"
				if _, err := s.Checkpoint(ctx); err != nil {
					t.Fatalf("seed %d step %d: checkpoint: %v", seed, step, err)
				}
			case k == 1:
				what = "reopen"
				if err := s.Close(); err != nil {
					t.Fatalf("seed %d step %d: close: %v", seed, step, err)
				}
				s = mustOpen(t, dir, opts)
			default:
				ops := g.batch(rng)
				what = "apply"
				wantMissing := m.apply(ops)
				res, err := s.Apply(ctx, ops)
				if err != nil {
					t.Fatalf("seed %d step %d: apply: %v", seed, step, err)
				}
				if !slices.Equal(res.Missing, wantMissing) {
					t.Fatalf("seed %d step %d: missing %v, want %v", seed, step, res.Missing, wantMissing)
				}
			}
			if d := sameRecords(s.Engine(), m); d != "" {
				t.Fatalf("seed %d step %d (%s): %s", seed, step, what, d)
			}
			if step%10 == 0 {
				sameAnswers(t, s.Engine(), m, reqs)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = mustOpen(t, dir, opts)
		if d := sameRecords(s.Engine(), m); d != "" {
			t.Fatalf("seed %d after reopen: %s", seed, d)
		}
		sameAnswers(t, s.Engine(), m, reqs)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCheckpointTrimsJournal checks that a checkpoint empties the journal
// of what the snapshot covers, and that the data survives it.
func TestCheckpointTrimsJournal(t *testing.T) {
	ctx := context.Background()
	base := baseRecords(t, baseOptions)
	dir := initDir(t, base)
	s := mustOpen(t, dir, Options{CheckpointBytes: -1})
	m := newModel(base)
	g := newGen(base)
	rng := rand.New(rand.NewPCG(5, 5))
	for range 30 {
		ops := g.batch(rng)
		m.apply(ops)
		if _, err := s.Apply(ctx, ops); err != nil {
			t.Fatal(err)
		}
	}
	before := s.Stats()
	if before.JournalEntries == 0 {
		t.Fatal("no journal entries after 30 batches")
	}
	info, err := s.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	after := s.Stats()
	if info.Skipped || after.JournalEntries != 0 || after.SnapshotSeq != before.Seq || info.Records != len(m) {
		t.Fatalf("checkpoint %+v: stats before %+v after %+v", info, before, after)
	}
	if info.JournalBytesAfter >= info.JournalBytesBefore {
		t.Fatalf("journal not shrunk: %d -> %d bytes", info.JournalBytesBefore, info.JournalBytesAfter)
	}
	if again, err := s.Checkpoint(ctx); err != nil || !again.Skipped {
		t.Fatalf("second checkpoint with no change: %+v, %v", again, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	snaps, leftovers, err := dirFiles(dir)
	if err != nil || len(snaps) != 1 || len(leftovers) != 0 {
		t.Fatalf("data dir holds snapshots %v and leftovers %v (%v)", snaps, leftovers, err)
	}
	s = mustOpen(t, dir, Options{})
	defer s.Close()
	if d := sameRecords(s.Engine(), m); d != "" {
		t.Fatal(d)
	}
}

// TestAutomaticCheckpoint checks that a journal past CheckpointBytes is
// checkpointed without being asked.
func TestAutomaticCheckpoint(t *testing.T) {
	ctx := context.Background()
	base := baseRecords(t, baseOptions)
	dir := initDir(t, base)
	s := mustOpen(t, dir, Options{CheckpointBytes: 1 << 10})
	ups := make([]record.StatusUpdate, 200)
	for i := range ups {
		ups[i] = record.StatusUpdate{ProcessID: base[i].ProcessID, ProcessStatus: 2}
	}
	if _, err := s.ApplyStatus(ctx, ups); err != nil {
		t.Fatal(err)
	}
	// Close waits for the checkpoint the write started.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.LastCheckpoint == nil || st.LastCheckpointErr != nil || st.SnapshotSeq != 1 {
		t.Fatalf("no automatic checkpoint: %+v", st)
	}
}

func TestStatusBatchesAndMissing(t *testing.T) {
	ctx := context.Background()
	base := baseRecords(t, synth.Options{Processes: 50, Seed: 1})
	dir := initDir(t, base)
	s := mustOpen(t, dir, Options{})
	defer s.Close()
	pid := base[3].ProcessID
	v0 := s.Engine().Version()
	res, err := s.ApplyStatus(ctx, []record.StatusUpdate{
		{ProcessID: pid, ProcessStatus: 2, IsAuto: true, SetProcInstInfos: true,
			ProcInstInfos: []record.ProcInstInfo{{ProcessID: pid, LocalInstID: 1, InstID: 9, ProcessStatus: 2, IsAuto: true}}},
		{ProcessID: 77, ProcessStatus: 1},
		{ProcessID: pid, ProcessStatus: 1, IsAuto: true}, // keeps the list
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Missing, []int64{77}) || res.Changed != 1 || res.Seq != 1 || res.Version != v0+1 {
		t.Fatalf("result %+v", res)
	}
	r, _ := s.Engine().Record(pid)
	if r.ProcessStatus != 1 || !r.IsAuto || len(r.ProcInstInfos) != 1 || r.ProcInstInfos[0].InstID != 9 {
		t.Fatalf("record after status: %+v", r)
	}
	// A batch that changes nothing writes nothing.
	res, err = s.Delete(ctx, []int64{77})
	if err != nil || res.Seq != 1 || res.Changed != 0 || !slices.Equal(res.Missing, []int64{77}) {
		t.Fatalf("delete of an absent id: %+v, %v", res, err)
	}
}

func TestInvalidOps(t *testing.T) {
	ctx := context.Background()
	dir := initDir(t, nil)
	s := mustOpen(t, dir, Options{})
	defer s.Close()
	bad := [][]Op{
		{{}},
		{{Delete: -1}},
		{{Delete: 1, Status: &record.StatusUpdate{ProcessID: 1}}},
		{{Upsert: &record.Record{ProcessID: 0}}},
		{{Upsert: &record.Record{ProcessID: 1, SetName: "\xff"}}},
		{{Upsert: &record.Record{ProcessID: 1, SetEnv: "4"}}}, // a snapshot could not hold it
		{{Status: &record.StatusUpdate{ProcessID: 0}}},
		{{Upsert: &record.Record{ProcessID: 1}}, {Delete: -5}},
	}
	for i, ops := range bad {
		if _, err := s.Apply(ctx, ops); !errors.Is(err, ErrInvalidOp) {
			t.Errorf("batch %d: err %v, want ErrInvalidOp", i, err)
		}
	}
	if s.Engine().Len() != 0 || s.Stats().Seq != 0 {
		t.Fatalf("an invalid batch changed the data: %+v", s.Stats())
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Upsert(cctx, []*record.Record{{ProcessID: 1}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled upsert: %v", err)
	}
	if s.Engine().Len() != 0 {
		t.Fatal("a cancelled batch was applied")
	}
}

func TestUpsertCopiesRecords(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, initDir(t, nil), Options{})
	defer s.Close()
	r := &record.Record{ProcessID: 5, SetName: "a"}
	if _, err := s.Upsert(ctx, []*record.Record{r}); err != nil {
		t.Fatal(err)
	}
	r.SetName = "changed"
	if got, _ := s.Engine().Record(5); got.SetName != "a" {
		t.Fatalf("the store kept the caller's record: %q", got.SetName)
	}
}

func TestOpenErrors(t *testing.T) {
	tmp := t.TempDir()
	if _, err := Open(filepath.Join(tmp, "nope"), Options{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing dir: %v", err)
	}
	if _, err := Open(tmp, Options{}); !errors.Is(err, ErrNotInitialized) {
		t.Errorf("empty dir: %v", err)
	}
	dir := initDir(t, baseRecords(t, synth.Options{Processes: 20, Seed: 1}))
	if err := Init(dir, ""); !errors.Is(err, ErrExists) {
		t.Errorf("Init over a data dir: %v", err)
	}
	s := mustOpen(t, dir, Options{})
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrLocked) {
		t.Errorf("second Open: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
	if _, err := s.Delete(context.Background(), []int64{1}); !errors.Is(err, ErrClosed) {
		t.Errorf("write after Close: %v", err)
	}
	if err := Init(filepath.Join(tmp, "bad"), filepath.Join(tmp, "no.snap")); err == nil {
		t.Error("Init from a missing snapshot succeeded")
	}
}

// TestCorruptSnapshot checks that a damaged newest snapshot fails Open
// loudly, and so does a missing one, rather than an empty start.
func TestCorruptSnapshot(t *testing.T) {
	ctx := context.Background()
	base := baseRecords(t, baseOptions)
	dir := initDir(t, base)
	s := mustOpen(t, dir, Options{})
	if _, err := s.Delete(ctx, []int64{base[0].ProcessID}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(ctx, []int64{base[1].ProcessID}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	snap := filepath.Join(dir, snapName(1))

	flipped := copyDir(t, dir)
	b, err := os.ReadFile(filepath.Join(flipped, snapName(1)))
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x40
	if err := os.WriteFile(filepath.Join(flipped, snapName(1)), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(flipped, Options{}); !errors.Is(err, ErrCorruptSnapshot) || !strings.Contains(err.Error(), snapName(1)) {
		t.Errorf("flipped byte: %v", err)
	}

	cut := copyDir(t, dir)
	if err := os.Truncate(filepath.Join(cut, snapName(1)), 100); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(cut, Options{}); !errors.Is(err, ErrCorruptSnapshot) {
		t.Errorf("truncated snapshot: %v", err)
	}

	gone := copyDir(t, dir)
	if err := os.Remove(filepath.Join(gone, snapName(1))); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(gone, Options{}); !errors.Is(err, ErrMissingSnapshot) {
		t.Errorf("removed snapshot: %v", err)
	}

	empty := copyDir(t, dir)
	if err := os.Truncate(filepath.Join(empty, journalName), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(empty, Options{}); !errors.Is(err, ErrCorruptJournal) {
		t.Errorf("emptied journal: %v", err)
	}

	garbled := copyDir(t, dir)
	jb, err := os.ReadFile(filepath.Join(garbled, journalName))
	if err != nil {
		t.Fatal(err)
	}
	copy(jb[len(jb)/2:], "garbage\r\n")
	if err := os.WriteFile(filepath.Join(garbled, journalName), jb, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(garbled, Options{}); !errors.Is(err, ErrCorruptJournal) {
		t.Errorf("garbled journal: %v", err)
	}

	// The original still opens, with both deletes.
	s = mustOpen(t, dir, Options{})
	defer s.Close()
	if s.Engine().Len() != len(base)-2 || s.Stats().Snapshot != snap {
		t.Fatalf("reopened: %+v", s.Stats())
	}
}

// TestTruncatedJournalTail cuts the journal at points inside and between
// batches: Open must succeed and hold the batches before the cut, and the
// batch the cut goes through whole or not at all (buntdb drops a command
// cut short; the store drops the rest of its batch).
func TestTruncatedJournalTail(t *testing.T) {
	ctx := context.Background()
	base := baseRecords(t, baseOptions)
	dir := initDir(t, base)
	// Sizes are exact without syncing: the cuts stand in for crashes.
	s := mustOpen(t, dir, Options{CheckpointBytes: -1, Sync: SyncNever})
	g := newGen(base)
	rng := rand.New(rand.NewPCG(11, 11))
	models := []model{newModel(base)}
	sizes := []int64{s.journalSize()}
	for range 6 {
		ops := g.batch(rng)
		m := models[len(models)-1].clone()
		m.apply(ops)
		res, err := s.Apply(ctx, ops)
		if err != nil {
			t.Fatal(err)
		}
		if res.Changed == 0 {
			continue
		}
		models = append(models, m)
		sizes = append(sizes, s.journalSize())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for j := 1; j < len(sizes); j++ {
		cuts := []int64{sizes[j], sizes[j] - 1, sizes[j-1] + 1 + rng.Int64N(sizes[j]-sizes[j-1]-1)}
		for _, cut := range cuts {
			c := copyDir(t, dir)
			if err := os.Truncate(filepath.Join(c, journalName), cut); err != nil {
				t.Fatal(err)
			}
			s, err := Open(c, Options{})
			if err != nil {
				t.Fatalf("cut at %d (batch %d ends at %d): %v", cut, j, sizes[j], err)
			}
			// Inside batch j the cut keeps it whole or drops it whole. (It
			// is whole when only the deletions of entries the batch before
			// replaced were cut: buntdb writes a batch's commands in no
			// set order.)
			want := j
			if cut < sizes[j] && sameRecords(s.Engine(), models[j]) != "" {
				want = j - 1
			}
			if d := sameRecords(s.Engine(), models[want]); d != "" {
				t.Fatalf("cut at %d (batch %d spans %d..%d): want the data after batch %d: %s", cut, j, sizes[j-1], sizes[j], want, d)
			}
			// The next write goes on from there, and survives a reopen.
			m := models[want].clone()
			ops := g.batch(rng)
			m.apply(ops)
			if _, err := s.Apply(ctx, ops); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = mustOpen(t, c, Options{})
			if d := sameRecords(s.Engine(), m); d != "" {
				t.Fatalf("cut at %d, written again, reopened: %s", cut, d)
			}
			s.Close()
		}
	}
}

func TestSyncPolicies(t *testing.T) {
	ctx := context.Background()
	for _, p := range []SyncPolicy{SyncAlways, SyncEverySecond, SyncNever} {
		got, err := ParseSyncPolicy(p.String())
		if err != nil || got != p {
			t.Fatalf("ParseSyncPolicy(%q) = %v, %v", p.String(), got, err)
		}
		dir := initDir(t, nil)
		s := mustOpen(t, dir, Options{Sync: p})
		if _, err := s.Upsert(ctx, []*record.Record{{ProcessID: 3, SetName: p.String()}}); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = mustOpen(t, dir, Options{Sync: p})
		if r, ok := s.Engine().Record(3); !ok || r.SetName != p.String() {
			t.Fatalf("%v: record after reopen: %+v", p, r)
		}
		s.Close()
	}
	if _, err := ParseSyncPolicy("sometimes"); err == nil {
		t.Fatal("ParseSyncPolicy accepted sometimes")
	}
}
