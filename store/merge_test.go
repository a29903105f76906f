package store

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/procq/procq/internal/synth"
)

// waitMerge waits until no merge runs (one merge may start the next).
func (s *Store) waitMerge() {
	for {
		s.mu.Lock()
		done, running := s.merge.done, s.merge.running
		s.mu.Unlock()
		if !running {
			return
		}
		<-done
	}
}

// TestBackgroundMerge writes random batches with a merge threshold so low
// that most writes start a merge, and has every merge's goroutine write
// more batches after its build and before it publishes (they must be
// re-applied onto the merged engine); after every step the store holds
// the model's records, and every few steps it answers like an engine
// built afresh, across checkpoints and reopens.
func TestBackgroundMerge(t *testing.T) {
	ctx := context.Background()
	base := baseRecords(t, baseOptions)
	reqs, err := synth.Requests(baseOptions, 6, 3)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	dir, m, g := initDir(t, base), newModel(base), newGen(base)
	var s *Store
	raced := 0
	opts := Options{CheckpointBytes: 256 << 10, hook: func(stage string) {
		if stage != "merge-built" {
			return
		}
		// The test goroutine waits for this merge: m is ours.
		for range rng.IntN(3) {
			ops := g.batch(rng)
			m.apply(ops)
			if _, err := s.Apply(ctx, ops); err != nil {
				t.Errorf("apply during merge: %v", err)
			}
			raced++
		}
	}}
	open := func() {
		s = mustOpen(t, dir, opts)
		s.merge.at = 6
	}
	open()
	for step := range 60 {
		switch rng.IntN(15) {
		case 0:
			if _, err := s.Checkpoint(ctx); err != nil {
				t.Fatalf("step %d: checkpoint: %v", step, err)
			}
		case 1:
			if err := s.Close(); err != nil {
				t.Fatalf("step %d: close: %v", step, err)
			}
			open()
		default:
			ops := g.batch(rng)
			m.apply(ops)
			if _, err := s.Apply(ctx, ops); err != nil {
				t.Fatalf("step %d: apply: %v", step, err)
			}
		}
		s.waitMerge()
		if d := sameRecords(s.Engine(), m); d != "" {
			t.Fatalf("step %d (merge stats %+v): %s", step, s.MergeStats(), d)
		}
		if step%6 == 0 {
			sameAnswers(t, s.Engine(), m, reqs)
		}
	}
	st := s.MergeStats()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if st.Merges == 0 || raced == 0 {
		t.Fatalf("merges %d, batches written during a merge %d: the test did not test", st.Merges, raced)
	}
	s = mustOpen(t, dir, opts)
	defer s.Close()
	if d := sameRecords(s.Engine(), m); d != "" {
		t.Fatalf("after reopen: %s", d)
	}
	t.Logf("%d merges (last %v), %d batches written during merges", st.Merges, st.Last, raced)
}
