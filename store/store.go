// Package store keeps procq's process records durable while they change:
// it owns a data directory holding the latest snapshot and a journal of
// every batch of changes since that snapshot, and publishes each new
// version of the data as an immutable engine.Engine.
//
// # Data directory
//
//	LOCK                           flocked, as the directory itself is, by whoever has the store open
//	journal.db                     the journal: an append-only file of CRC-checked records (format 2)
//	snap-<20-digit seq>.procq      the snapshot, covering every batch up to seq
//	journal.db.damaged-<UTC time>  a damaged journal as it was, kept before anything dropped a byte of it
//
// The journal holds, after a 16-byte header, one record per batch (one
// Apply call), numbered by seq: the batch's upserted records (JSON, the
// SPEC's record shape), deleted ids and status updates (packed varints),
// so that a batch of 100,000 status updates is one record of about
// 690 KB, written with one write and synced with one fsync
// (BenchmarkWriteBatch). A batch past 16 MiB is written as several
// records, its parts. Each record is framed by its length, a CRC-32C of
// its key (kind and seq) and value, and a CRC-32C of the length and that
// checksum, so that a damaged length is told from a record cut short.
// A snapshot mark record says which snapshot the batches after it need;
// a missing snapshot is reported instead of replaying the journal onto
// nothing. Every op sets a value, so replaying a batch twice is
// harmless. frame.go and batch.go describe the bytes.
//
// The journal is not a buntdb file, although procq wrote it as one up to
// format 1 (one key per changed process, p:<pid>:<seq>): buntdb v1.3.0
// cuts a file that ends mid-command on open, in place, before the caller
// can look at it; it loads a changed byte inside a value without a word,
// names no offset when it refuses a file, allocates whatever a damaged
// length says, and keeps every value in memory while the store needs the
// journal only at Open. A plain file of checksummed records is what etcd's
// WAL does, and a batch costs one write instead of a buntdb set per
// process (about 3.5 µs each). A format 1 journal still opens: Open reads
// it (without changing it), and rewrites it in format 2 as one batch of
// each process's newest entry.
//
// # Writes
//
// A write (Apply, Upsert, Delete, ApplyStatus) builds the next engine from
// the current one, appends the batch to the journal, syncs it as the
// SyncPolicy says, and only then publishes the new engine with one atomic
// swap and returns. Queries therefore see a batch whole or not at all, and
// an acknowledged write is in the journal. Writers take turns; readers
// never wait for them.
//
// # Checkpoints
//
// Checkpoint writes the current engine's records as a new snapshot
// (atomically: a temporary file renamed into place), appends a snapshot
// mark to the journal, rewrites the journal with only the batches the
// snapshot does not cover (writes that raced the checkpoint keep theirs),
// and removes the older snapshot. It runs on request and by itself once
// the journal file outgrows Options.CheckpointBytes. Writes continue while
// the snapshot is written.
//
// # Recovery
//
// Open loads the newest snapshot and replays the journal's batches after
// it, in seq order, checking every record. A torn tail (the file ending
// inside the last batch, as a crash while it was written leaves it) is
// dropped with a warning naming its seq, offset and size, after the
// journal is kept aside as journal.db.damaged-<UTC time>: whether that
// batch had been acknowledged cannot be known. Damage anywhere else stops
// Open with a *DamageError (ErrCorruptJournal) naming the file, the batch
// and the byte offset, and changes nothing; Repair then salvages every
// valid batch explicitly. A corrupt or missing snapshot is an error too:
// Open never starts empty on top of data it cannot read. A journal or
// snapshot that is not a regular file (a FIFO, a directory, a device) is
// refused before it is read (ErrNotRegular).
//
// # Caveats
//
// An open Store holds an flock on the data directory itself (and on its
// LOCK file, for older versions of procq) until Close: a second Open of
// the directory, in this process or another, fails with ErrLocked, and no
// file removed from the directory lifts the lock. A journal write that
// fails is tried again a few times, with growing pauses, while the writer
// holds the store's write turn. With SyncEverySecond, and after a write
// that outgrows Options.CheckpointBytes, the store runs goroutines of its
// own until Close.
package store

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/procq/procq/engine"
	"github.com/procq/procq/snapshot"
)

// Errors callers may branch on; the errors returned wrap them.
var (
	// ErrNotInitialized: the directory is not a data directory (no
	// journal); Init makes one.
	ErrNotInitialized = errors.New("not an initialised data directory (run procq init)")
	// ErrExists: Init was asked to initialise a directory that is not empty.
	ErrExists = errors.New("directory is not empty")
	// ErrLocked: the data directory is open elsewhere, in another
	// process or by another Open in this one.
	ErrLocked = errors.New("data directory in use (locked)")
	// ErrCorruptSnapshot: the newest snapshot cannot be read.
	ErrCorruptSnapshot = errors.New("corrupt snapshot")
	// ErrMissingSnapshot: the journal was trimmed against a snapshot that
	// is no longer there.
	ErrMissingSnapshot = errors.New("missing snapshot")
	// ErrCorruptJournal: the journal cannot be read; a *DamageError
	// says where.
	ErrCorruptJournal = errors.New("corrupt journal")
	// ErrInvalidOp: a write was given an operation that is not valid; no
	// part of it was applied.
	ErrInvalidOp = errors.New("invalid operation")
	// ErrFailed: syncing the journal failed earlier, so the store takes no
	// more writes; reopen it.
	ErrFailed = errors.New("store failed; reopen it")
	// ErrClosed: the store is closed.
	ErrClosed = errors.New("store closed")
	// ErrNotRegular: the journal or a snapshot is not a regular file (a
	// directory, a FIFO, a device such as /dev/full), refused before it is
	// read. It is snapshot.ErrNotRegular.
	ErrNotRegular = snapshot.ErrNotRegular
)

// SyncPolicy says when a journal write is forced to stable storage.
type SyncPolicy int

// The sync policies. The zero value is SyncAlways.
const (
	// SyncAlways syncs every write before acknowledging it.
	SyncAlways SyncPolicy = iota
	// SyncEverySecond syncs at most a second after a write.
	SyncEverySecond
	// SyncNever leaves syncing to the operating system.
	SyncNever
)

// String returns the name ParseSyncPolicy reads.
func (p SyncPolicy) String() string {
	switch p {
	case SyncAlways:
		return "always"
	case SyncEverySecond:
		return "second"
	case SyncNever:
		return "never"
	}
	return fmt.Sprintf("SyncPolicy(%d)", int(p))
}

// ParseSyncPolicy reads "always", "second" (or "everysecond") or "never".
func ParseSyncPolicy(s string) (SyncPolicy, error) {
	switch strings.ToLower(s) {
	case "always":
		return SyncAlways, nil
	case "second", "everysecond", "every-second":
		return SyncEverySecond, nil
	case "never":
		return SyncNever, nil
	}
	return 0, fmt.Errorf("sync policy %q: want always, second or never", s)
}

// DefaultCheckpointBytes is the journal size that starts an automatic
// checkpoint when Options.CheckpointBytes is zero.
const DefaultCheckpointBytes = 256 << 20

// Options tunes a Store. The zero value is the safe default.
type Options struct {
	// Sync is when journal writes are synced; the zero value syncs every
	// write.
	Sync SyncPolicy
	// CheckpointBytes is the journal file size past which a write starts a
	// checkpoint in the background; 0 means DefaultCheckpointBytes and a
	// negative value turns automatic checkpoints off.
	CheckpointBytes int64
	// Live, when not nil, is where the store publishes each engine (for a
	// server that already serves from it); otherwise the store makes its
	// own.
	Live *engine.Live
	// Logger receives what happens without a caller to tell: recovery
	// details and background checkpoints. Nil discards it.
	Logger *slog.Logger
	// CheckpointProgress, when set, is told how many of a checkpoint's
	// records its new snapshot holds so far: every 65,536 records and once
	// at the end, from the checkpoint's goroutine.
	CheckpointProgress func(done, total int)

	// hook, when set (by tests), is called at the named points of opens,
	// writes and checkpoints where a crash or a cancel is interesting.
	hook func(stage string)
	// writeFault, when set (by tests), is called before each attempt to
	// write a batch to the journal; an error it returns is that attempt's.
	writeFault func() error
	// retryWait, when set (by tests), replaces writeRetryWait.
	retryWait time.Duration
}

// File names inside a data directory.
const (
	journalName = "journal.db"
	lockName    = "LOCK"
	snapPrefix  = "snap-"
	snapSuffix  = ".procq"
	shrinkName  = "journal.db.shrink"
)

// Store is an open data directory. Its methods are safe for concurrent
// use.
type Store struct {
	dir  string
	opts Options
	log  *slog.Logger
	live *engine.Live
	lock *dirLock

	// mu serializes writers, trims and shrinks, and guards the fields
	// below it.
	mu      sync.Mutex
	seq     uint64 // the last batch applied
	snapSeq uint64 // the batch the snapshot covers
	snap    string // the snapshot's path; "" when there is none
	// spans are the whole batches in the journal file, by seq.
	spans  []batchSpan
	failed error
	closed bool
	// merge folds the engine's delta into its base in the background.
	merge merger

	// fileMu guards syncF, jsize and dirty, for the background syncer;
	// they change with mu held too.
	fileMu sync.Mutex
	syncF  *os.File // the journal file
	jsize  int64    // its size: where the next record goes
	dirty  bool

	// ckMu lets one checkpoint run at a time.
	ckMu   sync.Mutex
	lastCk atomic.Pointer[ckResult]

	stop chan struct{}
	wg   sync.WaitGroup
}

type ckResult struct {
	info CheckpointInfo
	err  error
}

// Dir returns the data directory.
func (s *Store) Dir() string { return s.dir }

// Engine returns the engine holding the newest acknowledged version of
// the data. It never blocks.
func (s *Store) Engine() *engine.Engine { return s.live.Load() }

// Live returns the holder the store publishes its engines in.
func (s *Store) Live() *engine.Live { return s.live }

// Stats describes a store at one moment.
type Stats struct {
	// Seq is the number of the last batch applied.
	Seq uint64
	// SnapshotSeq is the batch the snapshot covers; Snapshot is its path,
	// "" when there is none.
	SnapshotSeq uint64
	Snapshot    string
	// JournalEntries is the number of process changes the journal holds
	// since the snapshot (a process changed by two batches counts twice).
	JournalEntries int
	// JournalBytes is the size of the journal file.
	JournalBytes int64
	// Records and Version are those of the current engine.
	Records int
	Version uint64
	// LastCheckpoint is the outcome of the last checkpoint, nil before
	// the first; LastCheckpointErr is its error.
	LastCheckpoint    *CheckpointInfo
	LastCheckpointErr error
	// Failed is why the store takes no more writes, nil while it does.
	Failed error
}

// Stats returns the store's current state.
func (s *Store) Stats() Stats {
	s.mu.Lock()
	st := Stats{Seq: s.seq, SnapshotSeq: s.snapSeq, Snapshot: s.snap, Failed: s.failed}
	for _, b := range s.spans {
		if b.seq > s.snapSeq {
			st.JournalEntries += b.changes
		}
	}
	s.mu.Unlock()
	st.JournalBytes = s.journalSize()
	if e := s.live.Load(); e != nil {
		st.Records, st.Version = e.Len(), e.Version()
	}
	if r := s.lastCk.Load(); r != nil {
		info := r.info
		st.LastCheckpoint, st.LastCheckpointErr = &info, r.err
	}
	return st
}

// Close waits for a running checkpoint, syncs the journal and releases
// the data directory. The engine stays usable.
func (s *Store) Close() error {
	s.ckMu.Lock()
	defer s.ckMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.closed = true
	s.mu.Unlock()
	close(s.stop)
	s.wg.Wait()
	var errs []error
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed == nil {
		if err := s.syncJournal(); err != nil {
			errs = append(errs, err)
		}
	}
	s.fileMu.Lock()
	if s.syncF != nil {
		errs = append(errs, s.syncF.Close())
		s.syncF = nil
	}
	s.fileMu.Unlock()
	errs = append(errs, unlockDir(s.lock))
	return errors.Join(errs...)
}

// at calls the test hook at stage.
func (s *Store) at(stage string) {
	if s.opts.hook != nil {
		s.opts.hook(stage)
	}
}

func (s *Store) journalPath() string { return filepath.Join(s.dir, journalName) }

// journalSize returns the journal file's size.
func (s *Store) journalSize() int64 {
	s.fileMu.Lock()
	defer s.fileMu.Unlock()
	return s.jsize
}

// syncJournal forces the journal to stable storage. A failure fails the
// store: after a failed fsync the kernel may have dropped the pages it
// could not write, so what the file holds is no longer known.
func (s *Store) syncJournal() error {
	s.fileMu.Lock()
	defer s.fileMu.Unlock()
	if s.syncF == nil {
		return nil
	}
	if err := s.syncF.Sync(); err != nil {
		err = fmt.Errorf("journal %s: sync: %w", s.journalPath(), err)
		s.failed = err
		return err
	}
	s.dirty = false
	return nil
}

// syncLoop syncs the journal once a second while writes left it dirty.
func (s *Store) syncLoop() {
	defer s.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		s.fileMu.Lock()
		dirty, f := s.dirty, s.syncF
		s.fileMu.Unlock()
		if !dirty || f == nil {
			continue
		}
		s.mu.Lock()
		if s.failed == nil && !s.closed {
			if err := s.syncJournal(); err != nil {
				s.log.Error("journal sync failed; the store takes no more writes", "err", err)
			}
		}
		s.mu.Unlock()
	}
}
