package store

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// streamSeq returns s.StreamSeq, failing the test on an error.
func streamSeq(t *testing.T, s *Store) uint64 {
	t.Helper()
	v, err := s.StreamSeq()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestStreamPositionSurvives: the stream position journaled with a batch
// is read back after a reopen, after a checkpoint that trimmed every
// batch, and after a reopen of that; a batch that changes nothing still
// moves it; a position not after the store's is refused.
func TestStreamPositionSurvives(t *testing.T) {
	ctx := context.Background()
	base := baseRecords(t, baseOptions)
	dir := initDir(t, base)
	s := mustOpen(t, dir, Options{CheckpointBytes: -1})
	if got := streamSeq(t, s); got != 0 {
		t.Fatalf("new store: stream %d, want 0", got)
	}
	g := newGen(base)
	rng := rand.New(rand.NewPCG(3, 3))
	m := newModel(base)
	pos := uint64(0)
	for range 5 {
		ops := g.batch(rng)
		m.apply(ops)
		pos += 1 + uint64(rng.IntN(3)) // a --biz replica sees gaps
		if _, err := s.ApplyStream(ctx, ops, pos); err != nil {
			t.Fatal(err)
		}
	}
	// A batch that changes nothing (a delete of no process) moves it too.
	pos++
	res, err := s.ApplyStream(ctx, []Op{{Delete: 1 << 50}}, pos)
	if err != nil || len(res.Missing) != 1 {
		t.Fatalf("no-op batch: %+v %v", res, err)
	}
	for _, bad := range []uint64{0, pos, pos - 1} {
		if _, err := s.ApplyStream(ctx, g.batch(rng), bad); !errors.Is(err, ErrInvalidOp) {
			t.Fatalf("stream %d after %d: %v, want ErrInvalidOp", bad, pos, err)
		}
	}
	// A plain Apply leaves the position as it is.
	ops := g.batch(rng)
	m.apply(ops)
	if _, err := s.Apply(ctx, ops); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		do   func() *Store
	}{
		{"reopen", func() *Store { s.Close(); return mustOpen(t, dir, Options{CheckpointBytes: -1}) }},
		{"checkpoint", func() *Store {
			if _, err := s.Checkpoint(ctx); err != nil {
				t.Fatal(err)
			}
			return s
		}},
		{"reopen after checkpoint", func() *Store { s.Close(); return mustOpen(t, dir, Options{CheckpointBytes: -1}) }},
		{"second checkpoint", func() *Store {
			if _, err := s.ApplyStream(ctx, []Op{{Delete: 1 << 50}}, pos+1); err != nil {
				t.Fatal(err)
			}
			pos++
			if _, err := s.Checkpoint(ctx); err != nil {
				t.Fatal(err)
			}
			s.Close()
			return mustOpen(t, dir, Options{CheckpointBytes: -1})
		}},
	}
	for _, st := range steps {
		s = st.do()
		if got := streamSeq(t, s); got != pos {
			t.Fatalf("%s: stream %d, want %d", st.name, got, pos)
		}
		if d := sameRecords(s.Engine(), m); d != "" {
			t.Fatalf("%s: %s", st.name, d)
		}
	}
	_, _, snapStream, err := s.SnapshotStream()
	if err != nil || snapStream != pos {
		t.Fatalf("snapshot stream %d (%v), want %d", snapStream, err, pos)
	}
	s.Close()
	// Read without opening, from the snapshot mark alone.
	if got, err := DirStreamSeq(dir); err != nil || got != pos {
		t.Fatalf("DirStreamSeq: %d %v, want %d", got, err, pos)
	}
}

// TestStreamRecordTorn: a journal cut between a batch's stream record and
// the batch, or inside either, drops both: the position is the one
// before.
func TestStreamRecordTorn(t *testing.T) {
	ctx := context.Background()
	base := baseRecords(t, baseOptions)
	dir := initDir(t, base)
	s := mustOpen(t, dir, Options{CheckpointBytes: -1, Sync: SyncNever})
	g := newGen(base)
	rng := rand.New(rand.NewPCG(5, 5))
	if _, err := s.ApplyStream(ctx, g.batch(rng), 7); err != nil {
		t.Fatal(err)
	}
	before := s.journalSize()
	if _, err := s.ApplyStream(ctx, g.batch(rng), 9); err != nil {
		t.Fatal(err)
	}
	after := s.journalSize()
	s.Close()
	streamRec := int64(len(appendFrame(nil, kindStream, 0, markValue(9))))
	for _, cut := range []int64{before + 1, before + streamRec, before + streamRec + 5, after - 1} {
		c := copyDir(t, dir)
		if err := os.Truncate(filepath.Join(c, journalName), cut); err != nil {
			t.Fatal(err)
		}
		s := mustOpen(t, c, Options{})
		if got := streamSeq(t, s); got != 7 {
			t.Errorf("cut at %d (batch %d..%d): stream %d, want 7", cut, before, after, got)
		}
		s.Close()
	}
}

// TestRepairKeepsStream: a repair keeps the stream records of the batches
// it keeps.
func TestRepairKeepsStream(t *testing.T) {
	ctx := context.Background()
	base := baseRecords(t, baseOptions)
	dir := initDir(t, base)
	s := mustOpen(t, dir, Options{CheckpointBytes: -1})
	g := newGen(base)
	rng := rand.New(rand.NewPCG(6, 6))
	for pos := uint64(1); pos <= 3; pos++ {
		if _, err := s.ApplyStream(ctx, g.batch(rng), pos); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	// Garbage after the last batch: damage that Open refuses.
	f, err := os.OpenFile(filepath.Join(dir, journalName), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(make([]byte, 64))
	f.Close()
	if _, err := Repair(dir); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, dir, Options{})
	defer s.Close()
	if got := streamSeq(t, s); got != 3 {
		t.Fatalf("after repair: stream %d, want 3", got)
	}
}
