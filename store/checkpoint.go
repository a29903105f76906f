package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/procq/procq/engine"
)

// CheckpointInfo describes one checkpoint.
type CheckpointInfo struct {
	// Seq is the last batch the new snapshot covers.
	Seq uint64
	// Skipped is true when nothing had changed since the snapshot, so no
	// new one was written.
	Skipped bool
	// Snapshot is the new snapshot's path; Records and SnapshotBytes its
	// record count and size.
	Snapshot      string
	Records       int
	SnapshotBytes int64
	// JournalBytesBefore and JournalBytesAfter are the journal file's size
	// before the checkpoint and after the shrink.
	JournalBytesBefore, JournalBytesAfter int64
	// Write is the time taken to write the snapshot, Trim the time taken
	// to trim and shrink the journal (writers wait for it), and Duration
	// the whole checkpoint's.
	Write, Trim, Duration time.Duration
}

// Checkpoint writes the current data as a new snapshot and trims the
// journal of the entries it covers. Writes go on while the snapshot is
// written and wait only while the journal is trimmed and rewritten.
// Checkpoints take turns. When ctx ends before the snapshot is complete,
// it is abandoned and nothing changes.
func (s *Store) Checkpoint(ctx context.Context) (CheckpointInfo, error) {
	s.ckMu.Lock()
	defer s.ckMu.Unlock()
	return s.checkpoint(ctx)
}

// maybeCheckpoint starts a checkpoint in the background when the journal
// has outgrown Options.CheckpointBytes and none is running. The caller
// holds s.mu.
func (s *Store) maybeCheckpoint() {
	limit := s.opts.CheckpointBytes
	if limit == 0 {
		limit = DefaultCheckpointBytes
	}
	if limit < 0 || s.closed || s.failed != nil || s.journalSize() <= limit {
		return
	}
	if !s.ckMu.TryLock() {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.ckMu.Unlock()
		s.log.Info("journal past its checkpoint size: checkpointing", "dir", s.dir, "limit_bytes", limit)
		if _, err := s.checkpoint(context.Background()); err != nil {
			s.log.Error("automatic checkpoint failed", "dir", s.dir, "err", err)
		}
	}()
}

// checkpoint does the work of Checkpoint; the caller holds s.ckMu.
func (s *Store) checkpoint(ctx context.Context) (info CheckpointInfo, err error) {
	start := time.Now()
	defer func() {
		info.Duration = time.Since(start)
		s.lastCk.Store(&ckResult{info, err})
		if err == nil && !info.Skipped {
			s.log.Info("checkpoint", "dir", s.dir, "seq", info.Seq, "records", info.Records,
				"write", info.Write.Round(time.Millisecond), "trim", info.Trim.Round(time.Millisecond),
				"journal_bytes_before", info.JournalBytesBefore, "journal_bytes_after", info.JournalBytesAfter)
		}
	}()
	s.mu.Lock()
	if err := s.writable(); err != nil {
		s.mu.Unlock()
		return info, err
	}
	e, seq, base := s.live.Load(), s.seq, s.snapSeq
	s.mu.Unlock()
	info.Seq = seq
	info.JournalBytesBefore = s.journalSize()
	if seq == base {
		info.Skipped = true
		info.JournalBytesAfter = info.JournalBytesBefore
		return info, nil
	}

	path := filepath.Join(s.dir, snapName(seq))
	if info.Records, err = s.writeSnapshot(ctx, e, path); err != nil {
		return info, err
	}
	s.at("checkpoint-snapshot")
	info.Snapshot = path
	info.Write = time.Since(start)
	if st, err := os.Stat(path); err == nil {
		info.SnapshotBytes = st.Size()
	}

	trimStart := time.Now()
	old, err := s.trim(seq, path)
	info.Trim = time.Since(trimStart)
	if err != nil {
		return info, err
	}
	info.JournalBytesAfter = s.journalSize()
	s.bumpVersion()
	if old != "" && old != path {
		s.at("checkpoint-before-remove")
		if err := os.Remove(old); err != nil && !errors.Is(err, os.ErrNotExist) {
			return info, fmt.Errorf("checkpoint: remove old snapshot: %w", err)
		}
		if err := syncDir(s.dir); err != nil {
			return info, err
		}
	}
	return info, nil
}

// bumpVersion publishes the current engine again with the next data
// version: a checkpoint is a new version of the data set, as a batch and a
// reload are, so answers cached under the old one (ETags) are
// revalidated, though the records are the same.
func (s *Store) bumpVersion() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur := s.live.Load(); cur != nil && !s.closed {
		s.live.Store(cur.WithVersion(cur.Version() + 1))
	}
}

// writeSnapshot writes e as an index snapshot at path (atomically:
// nothing is there unless it returns nil; see engine.WriteSnapshot) and
// returns its record count, telling Options.CheckpointProgress before and
// after.
func (s *Store) writeSnapshot(ctx context.Context, e *engine.Engine, path string) (int, error) {
	progress, total := s.opts.CheckpointProgress, e.Len()
	if progress != nil {
		progress(0, total)
	}
	if err := e.WriteSnapshot(ctx, path); err != nil {
		return 0, err
	}
	if progress != nil {
		progress(total, total)
	}
	return total, nil
}

// trim makes the snapshot at path, covering batch seq, the store's
// snapshot: it appends a mark saying the journal depends on it (synced),
// then shrinks the journal to the batches after seq. It returns the
// previous snapshot's path.
func (s *Store) trim(seq uint64, path string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writable(); err != nil {
		return "", err
	}
	if err := s.appendJournal(appendFrame(nil, kindSnap, seq, nil)); err != nil {
		return "", fmt.Errorf("journal %s: trim: %w", s.journalPath(), err)
	}
	if err := s.syncJournal(); err != nil {
		return "", err
	}
	s.at("checkpoint-trimmed")
	old := s.snap
	s.snap, s.snapSeq = path, seq
	if err := s.shrink(); err != nil {
		return old, err
	}
	return old, nil
}
