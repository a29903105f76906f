package store

import (
	"sync/atomic"
	"time"

	"github.com/procq/procq/engine"
)

// merger folds the engine's delta (the records upserted and the base rows
// tombstoned since the last merge) into a new base in the background, off
// the write path: writes and queries go on while it builds. When the
// merged engine is ready, the store re-applies, under its write lock, the
// batches that arrived since the merge began, and publishes the result
// with one atomic swap, so readers never wait and never see half a batch.
type merger struct {
	// at is the delta size that starts a merge; 0 means
	// engine.DefaultMergeAt (tests lower it).
	at int
	// Guarded by Store.mu:
	running bool
	pending []*journalBatch // batches published since the running merge began
	done    chan struct{}   // closed when the running merge ends
	// merges counts the merged engines published; lastNanos is how long
	// the last merge's build took.
	merges    atomic.Uint64
	lastNanos atomic.Int64
}

// apply returns e with the batch applied, as Apply does.
func (b *journalBatch) apply(e *engine.Engine) (*engine.Engine, error) {
	if len(b.ups) > 0 || len(b.dels) > 0 {
		var err error
		if e, err = e.WithChanges(b.ups, b.dels); err != nil {
			return nil, err
		}
	}
	if len(b.status) > 0 {
		e, _ = e.WithStatus(b.status)
	}
	return e, nil
}

// MergeStats describes the delta and its merges, for metrics.
type MergeStats struct {
	// Delta is the current engine's delta.
	Delta engine.DeltaStats
	// Merges counts the merged engines published since Open.
	Merges uint64
	// Running is true while a merge builds.
	Running bool
	// Last is how long the last merge's build took.
	Last time.Duration
}

// MergeStats returns the state of the background merges.
func (s *Store) MergeStats() MergeStats {
	s.mu.Lock()
	running := s.merge.running
	s.mu.Unlock()
	st := MergeStats{Merges: s.merge.merges.Load(), Running: running, Last: time.Duration(s.merge.lastNanos.Load())}
	if e := s.live.Load(); e != nil {
		st.Delta = e.Delta()
	}
	return st
}

// published tells the merger about batch b, just published as e: a
// running merge will re-apply it; a delta past the bound starts one. The
// caller holds s.mu.
func (s *Store) published(e *engine.Engine, b *journalBatch) {
	if s.merge.running {
		s.merge.pending = append(s.merge.pending, b)
		return
	}
	s.startMerge(e)
}

// startMerge starts merging e when its delta is due and the store is
// open. The caller holds s.mu; no merge is running.
func (s *Store) startMerge(e *engine.Engine) {
	if s.closed || s.failed != nil || !e.NeedsMerge(s.merge.at) {
		return
	}
	s.merge.running, s.merge.pending = true, nil
	s.merge.done = make(chan struct{})
	s.wg.Add(1)
	go s.runMerge(e)
}

// runMerge builds the merge of e, then publishes it with the batches
// published since re-applied.
func (s *Store) runMerge(e *engine.Engine) {
	defer s.wg.Done()
	start := time.Now()
	merged, err := e.Merge()
	build := time.Since(start)
	s.at("merge-built")
	s.mu.Lock()
	defer s.mu.Unlock()
	done := s.merge.done
	defer close(done)
	pending := s.merge.pending
	s.merge.running, s.merge.pending = false, nil
	if err == nil {
		for _, c := range pending {
			if merged, err = c.apply(merged); err != nil {
				break
			}
		}
	}
	if err != nil {
		s.log.Error("merge failed; the delta stays", "dir", s.dir, "err", err)
		return
	}
	if s.closed {
		return
	}
	// The merged engine holds what the live one holds: it takes its
	// version, which a checkpoint may have raised meanwhile.
	if cur := s.live.Load(); cur != nil {
		merged = merged.WithVersion(cur.Version())
	}
	s.live.Store(merged)
	s.merge.merges.Add(1)
	s.merge.lastNanos.Store(int64(build))
	s.log.Debug("merged the delta", "dir", s.dir, "records", merged.Len(), "build", build,
		"replayed_batches", len(pending), "took", time.Since(start))
	// The batches written during the build may be a delta due already.
	s.startMerge(merged)
}
