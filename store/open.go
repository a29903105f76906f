package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/procq/procq/engine"
	"github.com/procq/procq/record"
	"github.com/procq/procq/snapshot"
)

// Open opens the data directory dir, which Init made: it loads the newest
// snapshot, replays the journal over it, and tidies what a crash left
// behind. It fails, wrapping ErrCorruptSnapshot, ErrMissingSnapshot or
// ErrCorruptJournal, rather than start from less data than the directory
// holds. The directory stays locked until Close; while it is open
// elsewhere, in this process or another, Open fails with ErrLocked. A
// journal or snapshot that is not a regular file fails with ErrNotRegular.
func Open(dir string, opts Options) (*Store, error) {
	return OpenContext(context.Background(), dir, opts)
}

// OpenContext is Open, giving up with ctx's error, and the directory
// unlocked, when ctx ends before the store is open.
func OpenContext(ctx context.Context, dir string, opts Options) (*Store, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("data dir %s: %w", dir, err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	s := &Store{dir: dir, opts: opts, lock: lock, log: opts.Logger, live: opts.Live, stop: make(chan struct{})}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.live == nil {
		s.live = engine.NewLive(nil)
	}
	if err := s.open(ctx); err != nil {
		if s.syncF != nil {
			s.syncF.Close()
		}
		unlockDir(lock)
		return nil, err
	}
	if opts.Sync == SyncEverySecond {
		s.wg.Add(1)
		go s.syncLoop()
	}
	s.mu.Lock()
	s.maybeCheckpoint()
	s.startMerge(s.live.Load())
	s.mu.Unlock()
	return s, nil
}

// open recovers the store's state from its directory, which Open locked,
// in phases: readJournal, pickSnapshot, replay, loadSnapshot,
// applyOverlay, dropTorn, openJournalFile and removeOld. It stops with ctx's error between phases
// and while it reads the snapshot.
func (s *Store) open(ctx context.Context) error {
	snaps, leftovers, err := dirFiles(s.dir)
	if err != nil {
		return err
	}
	var newest uint64
	if len(snaps) > 0 {
		newest = snaps[len(snaps)-1]
	}
	sc, err := s.readJournal(newest)
	if err != nil {
		return err
	}
	s.at("open-journal")
	if err := ctx.Err(); err != nil {
		return err
	}
	base, err := s.pickSnapshot(sc, snaps)
	if err != nil {
		return err
	}
	ov, spans, err := s.replay(sc, base)
	if err != nil {
		return err
	}
	s.at("open-snapshot")
	e, err := s.loadSnapshot(ctx, sc, snaps)
	if err != nil {
		return err
	}
	if e, err = s.applyOverlay(e, ov); err != nil {
		return err
	}
	if err := s.dropTorn(sc); err != nil {
		return err
	}
	if err := s.openJournalFile(sc.end); err != nil {
		return err
	}
	s.spans = spans
	if err := s.removeOld(snaps, leftovers); err != nil {
		return err
	}
	s.live.Store(e)
	s.log.Info("data dir opened", "dir", s.dir, "snapshot", filepath.Base(s.snap), "records", e.Len(),
		"journal_batches", len(spans), "seq", s.seq)
	return nil
}

// readJournal reads and checks the journal file, first rewriting it as
// format 2 when it is format 1 (read against the snapshot of base).
func (s *Store) readJournal(base uint64) (journalScan, error) {
	jpath := s.journalPath()
	st, err := os.Stat(jpath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return journalScan{}, fmt.Errorf("data dir %s: %w", s.dir, ErrNotInitialized)
	case err != nil:
		return journalScan{}, fmt.Errorf("journal %s: %w", jpath, err)
	}
	// Reading a FIFO would wait, and /dev/full or /dev/zero never end.
	if err := snapshot.CheckRegular(st); err != nil {
		return journalScan{}, fmt.Errorf("journal %s: %w", jpath, err)
	}
	data, err := os.ReadFile(jpath)
	if err != nil {
		return journalScan{}, fmt.Errorf("journal %s: %w", jpath, err)
	}
	if len(data) > 0 && data[0] == '*' { // format 1: buntdb's file starts with a RESP command
		if err := s.convertV1(base); err != nil {
			return journalScan{}, fmt.Errorf("journal %s: %w", jpath, err)
		}
		if data, err = os.ReadFile(jpath); err != nil {
			return journalScan{}, fmt.Errorf("journal %s: %w", jpath, err)
		}
	}
	return scanJournal(jpath, data)
}

// convertV1 rewrites the format 1 journal as format 2: one batch holding
// each process's newest entry, numbered as the newest batch. A format 1
// batch cut short by a crash is dropped, and the file kept aside first.
func (s *Store) convertV1(base uint64) error {
	path := s.journalPath()
	j, err := readV1(path, base)
	if err != nil {
		return err
	}
	if j.torn > 0 || j.tornTail {
		aside, err := keepAside(path)
		if err != nil {
			return err
		}
		s.log.Warn("format 1 journal: dropped a batch cut short by a crash", append(j.logAttrs(), "kept_aside", aside)...)
	}
	var tail []byte
	if j.last > base {
		tail = encodeBatch(j.last, j.ov.batch())
	}
	tmp := filepath.Join(s.dir, shrinkName)
	if err := writeJournalFile(tmp, j.snapMeta, j.hasSnapMeta, bytes.NewReader(tail)); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	s.log.Info("journal converted from format 1 to format 2", "dir", s.dir, "seq", j.last,
		"processes", len(j.ov.records)+len(j.ov.statuses))
	return syncDir(s.dir)
}

// pickSnapshot makes the newest of snaps the store's snapshot and returns
// the batch it covers. A journal trimmed against a newer snapshot than
// there is fails with ErrMissingSnapshot.
func (s *Store) pickSnapshot(sc journalScan, snaps []uint64) (uint64, error) {
	var base uint64
	if len(snaps) > 0 {
		base = snaps[len(snaps)-1]
		s.snap = filepath.Join(s.dir, snapName(base))
	}
	if sc.hasSnapMeta && (len(snaps) == 0 || base < sc.snapMeta) {
		return 0, fmt.Errorf("data dir %s: %w: the journal holds only the changes made after %s, which is not there",
			s.dir, ErrMissingSnapshot, snapName(sc.snapMeta))
	}
	s.snapSeq, s.seq = base, base
	if n := len(sc.batches); n > 0 {
		s.seq = max(s.seq, sc.batches[n-1].seq)
	}
	return base, nil
}

// journalOverlay is what the journal's batches after the snapshot change,
// folded in order: each process's last change.
type journalOverlay struct {
	// records holds each upserted process's record, nil when deleted.
	records map[int64]*record.Record
	// statuses holds the combined status updates of processes that only
	// status updates changed since the snapshot.
	statuses map[int64]record.StatusUpdate
}

func newOverlay() journalOverlay {
	return journalOverlay{records: make(map[int64]*record.Record), statuses: make(map[int64]record.StatusUpdate)}
}

// apply folds batch b into ov.
func (ov journalOverlay) apply(b *journalBatch) error {
	for _, r := range b.ups {
		ov.records[r.ProcessID] = r
		delete(ov.statuses, r.ProcessID)
	}
	for _, pid := range b.dels {
		ov.records[pid] = nil
		delete(ov.statuses, pid)
	}
	for _, u := range b.status {
		r, ok := ov.records[u.ProcessID]
		switch {
		case ok && r == nil:
			return fmt.Errorf("status update of bk_process_id %d, which an earlier batch deleted", u.ProcessID)
		case ok:
			ov.records[u.ProcessID] = withStatus(r, u)
		default:
			if prev, ok := ov.statuses[u.ProcessID]; ok && !u.SetProcInstInfos {
				u.ProcInstInfos, u.SetProcInstInfos = prev.ProcInstInfos, prev.SetProcInstInfos
			}
			ov.statuses[u.ProcessID] = u
		}
	}
	return nil
}

// batch returns ov as one batch.
func (ov journalOverlay) batch() *journalBatch { return batchOf(ov.records, ov.statuses) }

// withStatus returns a copy of r with u applied.
func withStatus(r *record.Record, u record.StatusUpdate) *record.Record {
	c := *r
	c.ProcessStatus, c.IsAuto = u.ProcessStatus, u.IsAuto
	if u.SetProcInstInfos {
		c.ProcInstInfos = u.ProcInstInfos
	}
	return &c
}

// replay decodes the batches after the snapshot of base, in seq order,
// and folds them into an overlay. It returns the batches' spans with
// their change counts.
func (s *Store) replay(sc journalScan, base uint64) (journalOverlay, []batchSpan, error) {
	ov := newOverlay()
	spans := slices.Clone(sc.batches)
	for i, span := range sc.batches {
		if span.seq <= base {
			continue // a checkpoint was cut short before trimming it
		}
		var b journalBatch
		for _, v := range sc.parts[i] {
			if _, _, err := decodeBatchPart(v, &b); err != nil {
				return ov, nil, &DamageError{File: s.journalPath(), Offset: span.off, Seq: span.seq, Reason: err.Error()}
			}
		}
		if err := ov.apply(&b); err != nil {
			return ov, nil, &DamageError{File: s.journalPath(), Offset: span.off, Seq: span.seq, Reason: err.Error()}
		}
		spans[i].changes = b.len()
	}
	return ov, spans, nil
}

// dropTorn drops a torn tail: the journal file is kept aside, then cut
// where its whole records end.
func (s *Store) dropTorn(sc journalScan) error {
	if sc.torn == nil {
		return nil
	}
	path := s.journalPath()
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("journal %s: %w", path, err)
	}
	aside, err := keepAside(path)
	if err != nil {
		return fmt.Errorf("journal %s: %w", path, err)
	}
	// Whether the batch was acknowledged is not known: a crash while it
	// was written, or the file cut later, look alike.
	s.log.Warn("journal ends in an incomplete batch: dropped it", "dir", s.dir, "file", path,
		"offset", sc.end, "bytes", st.Size()-sc.end, "seq", sc.torn.seq, "why", sc.torn.reason, "kept_aside", aside)
	if err := os.Truncate(path, sc.end); err != nil {
		return fmt.Errorf("journal %s: %w", path, err)
	}
	return nil
}

// loadSnapshot loads the store's snapshot, if any, as an engine: an
// index snapshot is read, not indexed (engine.Load).
func (s *Store) loadSnapshot(ctx context.Context, sc journalScan, snaps []uint64) (*engine.Engine, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.snap == "" {
		return engine.New(nil)
	}
	e, err := engine.Load(s.snap)
	if err != nil {
		return nil, s.snapshotError(err, sc, snaps)
	}
	return e, ctx.Err()
}

// applyOverlay returns e with the journal's entries laid over it through
// the engine's write path: the status updates patch the base's status
// columns, the upserted and deleted processes go to the delta (which the
// background merge folds once due; see startMerge in OpenContext).
func (s *Store) applyOverlay(e *engine.Engine, ov journalOverlay) (*engine.Engine, error) {
	version := e.Version() // the engine recovered is the snapshot's data version
	if len(ov.statuses) > 0 {
		ups := make([]record.StatusUpdate, 0, len(ov.statuses))
		for _, u := range ov.statuses {
			ups = append(ups, u)
		}
		var missing []int64
		if e, missing = e.WithStatus(ups); len(missing) > 0 {
			// Status entries are written only over a record of the snapshot.
			return nil, fmt.Errorf("journal %s: %w: status entries for %d processes the snapshot lacks, such as bk_process_id %d",
				s.journalPath(), ErrCorruptJournal, len(missing), missing[0])
		}
	}
	if len(ov.records) == 0 {
		return e.WithVersion(version), nil
	}
	var ups []*record.Record
	var dels []int64
	for _, pid := range slices.Sorted(maps.Keys(ov.records)) {
		if r := ov.records[pid]; r != nil {
			ups = append(ups, r)
		} else {
			dels = append(dels, pid)
		}
	}
	n, err := e.WithChanges(ups, dels)
	if err != nil {
		return nil, fmt.Errorf("data dir %s: %w", s.dir, err)
	}
	return n.WithVersion(version), nil
}

// snapshotError wraps err, from reading the store's snapshot, saying
// whether an older snapshot could take its place.
func (s *Store) snapshotError(err error, sc journalScan, snaps []uint64) error {
	if !errors.Is(err, snapshot.ErrCorrupt) && !errors.Is(err, snapshot.ErrNotSnapshot) && !errors.Is(err, snapshot.ErrVersion) {
		return fmt.Errorf("data dir %s: %w", s.dir, err)
	}
	msg := "refusing to start without it"
	if len(snaps) > 1 && (!sc.hasSnapMeta || snaps[len(snaps)-2] >= sc.snapMeta) {
		msg = fmt.Sprintf("%s with the journal still holds every change: move %s aside to use it",
			snapName(snaps[len(snaps)-2]), filepath.Base(s.snap))
	}
	return fmt.Errorf("data dir %s: %w: %w; %s", s.dir, ErrCorruptSnapshot, err, msg)
}

// openJournalFile opens the journal file the store appends to, whose
// whole records end at size, and syncs it.
func (s *Store) openJournalFile(size int64) error {
	f, err := os.OpenFile(s.journalPath(), os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("journal %s: %w", s.journalPath(), err)
	}
	s.syncF, s.jsize = f, size
	return s.syncJournal()
}

// removeOld removes the snapshots older than the newest, of no use once
// a newer one is there (the journal no longer holds what they miss), and
// the leftovers of interrupted checkpoints.
func (s *Store) removeOld(snaps []uint64, leftovers []string) error {
	removed := false
	for _, seq := range snaps[:max(len(snaps)-1, 0)] {
		if err := os.Remove(filepath.Join(s.dir, snapName(seq))); err == nil {
			removed = true
		}
	}
	for _, name := range leftovers {
		if err := os.Remove(filepath.Join(s.dir, name)); err == nil {
			removed = true
		}
	}
	if !removed {
		return nil
	}
	return syncDir(s.dir)
}
