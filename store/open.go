package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/tidwall/buntdb"

	"procq/engine"
	"procq/record"
	"procq/snapshot"
)

// journalState is what Open reads from the journal before replaying it.
type journalState struct {
	snapMeta    uint64 // m:snap
	hasSnapMeta bool
	last        lastBatch
	keys        []string // every entry key, in key order
}

func readJournalState(db *buntdb.DB) (journalState, error) {
	var js journalState
	err := db.View(func(tx *buntdb.Tx) error {
		v, ok, err := get(tx, keyFormat)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: no %s key: not a procq journal, or its beginning is lost", ErrCorruptJournal, keyFormat)
		}
		if v != formatValue {
			return fmt.Errorf("%w: format %q, want %q", ErrCorruptJournal, v, formatValue)
		}
		if v, ok, err = get(tx, keySnap); err != nil {
			return err
		} else if ok {
			if js.snapMeta, err = strconv.ParseUint(v, 10, 64); err != nil {
				return fmt.Errorf("%w: %s %q", ErrCorruptJournal, keySnap, v)
			}
			js.hasSnapMeta = true
		}
		if v, ok, err = get(tx, keyLast); err != nil {
			return err
		} else if ok {
			if js.last, err = parseLastBatch(v); err != nil {
				return fmt.Errorf("%w: %v", ErrCorruptJournal, err)
			}
		}
		var bad string
		err = tx.AscendKeys(entryPrefix+"*", func(k, _ string) bool {
			if _, _, ok := parseEntryKey(k); !ok {
				bad = k
				return false
			}
			js.keys = append(js.keys, k)
			return true
		})
		if err == nil && bad != "" {
			err = fmt.Errorf("%w: key %q", ErrCorruptJournal, bad)
		}
		return err
	})
	return js, err
}

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
		if s.db != nil {
			s.db.Close()
		}
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
	s.mu.Unlock()
	return s, nil
}

// open recovers the store's state from its directory, which Open locked,
// in phases: openJournal, pickSnapshot, planReplay, readEntries,
// mergeSnapshot, dropStale, openSyncFile and removeOld. It stops with
// ctx's error between phases and while it reads the snapshot.
func (s *Store) open(ctx context.Context) error {
	js, err := s.openJournal()
	if err != nil {
		return err
	}
	s.at("open-journal")
	if err := ctx.Err(); err != nil {
		return err
	}
	snaps, leftovers, err := dirFiles(s.dir)
	if err != nil {
		return err
	}
	base, err := s.pickSnapshot(js, snaps)
	if err != nil {
		return err
	}
	plan, err := s.planReplay(js, base)
	if err != nil {
		return err
	}
	ov, err := s.readEntries(plan)
	if err != nil {
		return err
	}
	s.at("open-snapshot")
	recs, err := s.mergeSnapshot(ctx, ov, js, snaps)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	e, err := engine.New(recs)
	if err != nil {
		return fmt.Errorf("data dir %s: %w", s.dir, err)
	}
	if err := s.dropStale(plan, js.last.seq); err != nil {
		return err
	}
	if err := s.openSyncFile(); err != nil {
		return err
	}
	s.latest = plan.refs
	if err := s.removeOld(snaps, leftovers); err != nil {
		return err
	}
	s.live.Store(e)
	s.log.Info("data dir opened", "dir", s.dir, "snapshot", filepath.Base(s.snap), "records", e.Len(),
		"journal_entries", len(plan.keep), "seq", s.seq)
	return nil
}

// openJournal opens the journal into s.db and reads its metadata and keys.
func (s *Store) openJournal() (journalState, error) {
	jpath := s.journalPath()
	st, err := os.Stat(jpath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return journalState{}, fmt.Errorf("data dir %s: %w", s.dir, ErrNotInitialized)
	case err != nil:
		return journalState{}, fmt.Errorf("journal %s: %w", jpath, err)
	}
	// buntdb would wait on a FIFO, and read /dev/full or /dev/zero for
	// ever.
	if err := snapshot.CheckRegular(st); err != nil {
		return journalState{}, fmt.Errorf("journal %s: %w", jpath, err)
	}
	// buntdb drops a command cut short at the end of the file (and
	// truncates the file there); anything else unreadable fails.
	db, err := openJournal(jpath)
	if err != nil {
		return journalState{}, fmt.Errorf("journal %s: %w: %w", jpath, ErrCorruptJournal, err)
	}
	s.db = db
	js, err := readJournalState(db)
	if err != nil {
		return journalState{}, fmt.Errorf("journal %s: %w", jpath, err)
	}
	return js, nil
}

// pickSnapshot makes the newest of snaps the store's snapshot and returns
// the batch it covers. A journal trimmed against a newer snapshot than
// there is fails with ErrMissingSnapshot.
func (s *Store) pickSnapshot(js journalState, snaps []uint64) (uint64, error) {
	var base uint64
	if len(snaps) > 0 {
		base = snaps[len(snaps)-1]
		s.snap = filepath.Join(s.dir, snapName(base))
	}
	if js.hasSnapMeta && (len(snaps) == 0 || base < js.snapMeta) {
		return 0, fmt.Errorf("data dir %s: %w: the journal holds only the changes made after %s, which is not there",
			s.dir, ErrMissingSnapshot, snapName(js.snapMeta))
	}
	s.snapSeq, s.seq = base, max(base, js.last.seq)
	return base, nil
}

// replayPlan is what the journal's keys say before any value is read.
type replayPlan struct {
	// keep is each process's newest entry of a whole batch newer than
	// the snapshot; refs is what the store remembers of it.
	keep map[int64]string
	refs map[int64]entryRef
	// drop are the keys to delete: those the snapshot covers, those of a
	// batch cut short by a crash, and those a newer entry replaces.
	drop []string
	// tornLast says that the newest batch lost entries to a crash; torn
	// counts the entries of cut-short batches.
	tornLast bool
	torn     int
}

// planReplay sorts the journal's entries out against the snapshot
// covering batch base: those the snapshot covers (a checkpoint was cut
// short before trimming them), those of a batch cut short by a crash,
// those a newer entry of the same process replaces, and the rest. It
// advances s.seq past every entry.
func (s *Store) planReplay(js journalState, base uint64) (replayPlan, error) {
	var lastCount int
	for _, k := range js.keys {
		if _, seq, _ := parseEntryKey(k); seq == js.last.seq && seq > base {
			lastCount++
		}
	}
	if lastCount > js.last.entries {
		return replayPlan{}, fmt.Errorf("journal %s: %w: batch %d has %d entries, %s says %d",
			s.journalPath(), ErrCorruptJournal, js.last.seq, lastCount, keyLast, js.last.entries)
	}
	// The newest batch lost entries to a crash: it was never acknowledged,
	// so none of it counts. (A batch the snapshot covers was trimmed.)
	p := replayPlan{
		keep:     make(map[int64]string),
		refs:     make(map[int64]entryRef),
		tornLast: js.last.seq > base && lastCount < js.last.entries,
	}
	for _, k := range js.keys {
		pid, seq, _ := parseEntryKey(k)
		s.seq = max(s.seq, seq)
		switch {
		case seq <= base:
			// The snapshot covers it: a checkpoint was cut short before
			// trimming it.
			p.drop = append(p.drop, k)
		case seq > js.last.seq || (p.tornLast && seq == js.last.seq):
			// A batch cut short by a crash (past m:last: it never wrote
			// m:last).
			p.drop = append(p.drop, k)
			p.torn++
		default:
			if old, ok := p.keep[pid]; ok {
				p.drop = append(p.drop, old) // keys ascend, so k is newer
			}
			p.keep[pid], p.refs[pid] = k, entryRef{seq: seq}
		}
	}
	if p.torn > 0 {
		s.log.Warn("dropped a journal batch cut short by a crash (it was never acknowledged)",
			"dir", s.dir, "entries", p.torn)
	}
	return p, nil
}

// journalOverlay is what the kept journal entries hold.
type journalOverlay struct {
	// records holds each process's whole record, nil for a tombstone.
	records map[int64]*record.Record
	// statuses holds the status fields of processes that only status
	// updates changed since the snapshot.
	statuses map[int64]*statusEntry
}

// readEntries reads the values of the entries plan keeps, and marks in
// plan.refs those holding a whole record or a tombstone.
func (s *Store) readEntries(plan replayPlan) (journalOverlay, error) {
	ov := journalOverlay{
		records:  make(map[int64]*record.Record, len(plan.keep)),
		statuses: make(map[int64]*statusEntry),
	}
	err := s.db.View(func(tx *buntdb.Tx) error {
		for pid, k := range plan.keep {
			v, err := tx.Get(k)
			if err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			r, st, err := parseEntryValue(v)
			if err != nil {
				return fmt.Errorf("%w: %s: %w", ErrCorruptJournal, k, err)
			}
			if r != nil && r.ProcessID != pid {
				return fmt.Errorf("%w: %s holds bk_process_id %d", ErrCorruptJournal, k, r.ProcessID)
			}
			if st != nil {
				ov.statuses[pid] = st
				continue
			}
			ov.records[pid] = r
			plan.refs[pid] = entryRef{seq: plan.refs[pid].seq, full: true}
		}
		return nil
	})
	if err != nil {
		return journalOverlay{}, fmt.Errorf("journal %s: %w", s.journalPath(), err)
	}
	return ov, nil
}

// mergeSnapshot reads the store's snapshot, if any, and returns its
// records with the journal's entries laid over them.
func (s *Store) mergeSnapshot(ctx context.Context, ov journalOverlay, js journalState, snaps []uint64) ([]*record.Record, error) {
	var recs []*record.Record
	if s.snap != "" {
		n := 0
		_, err := snapshot.Read(s.snap, func(r *record.Record) error {
			if n++; n%(1<<16) == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if st, ok := ov.statuses[r.ProcessID]; ok {
				r = st.apply(r)
				delete(ov.statuses, r.ProcessID)
			}
			if _, ok := ov.records[r.ProcessID]; !ok {
				recs = append(recs, r)
			}
			return nil
		})
		if err != nil {
			return nil, s.snapshotError(err, js, snaps)
		}
	}
	if len(ov.statuses) > 0 {
		// Status entries are written only over a record of the snapshot.
		return nil, fmt.Errorf("journal %s: %w: status entries for %d processes the snapshot lacks, such as bk_process_id %d",
			s.journalPath(), ErrCorruptJournal, len(ov.statuses), slices.Min(slices.Collect(maps.Keys(ov.statuses))))
	}
	for _, r := range ov.records {
		if r != nil {
			recs = append(recs, r)
		}
	}
	return recs, nil
}

// snapshotError wraps err, from reading the store's snapshot, saying
// whether an older snapshot could take its place.
func (s *Store) snapshotError(err error, js journalState, snaps []uint64) error {
	if !errors.Is(err, snapshot.ErrCorrupt) && !errors.Is(err, snapshot.ErrNotSnapshot) && !errors.Is(err, snapshot.ErrVersion) {
		return fmt.Errorf("data dir %s: %w", s.dir, err)
	}
	msg := "refusing to start without it"
	if len(snaps) > 1 && (!js.hasSnapMeta || snaps[len(snaps)-2] >= js.snapMeta) {
		msg = fmt.Sprintf("%s with the journal still holds every change: move %s aside to use it",
			snapName(snaps[len(snaps)-2]), filepath.Base(s.snap))
	}
	return fmt.Errorf("data dir %s: %w: %w; %s", s.dir, ErrCorruptSnapshot, err, msg)
}

// dropStale deletes the journal entries plan drops and, when the newest
// batch was cut short, records batch last as having no entries.
func (s *Store) dropStale(plan replayPlan, last uint64) error {
	if len(plan.drop) == 0 && !plan.tornLast {
		return nil
	}
	err := s.db.Update(func(tx *buntdb.Tx) error {
		for _, k := range plan.drop {
			if _, err := tx.Delete(k); err != nil && !errors.Is(err, buntdb.ErrNotFound) {
				return err
			}
		}
		if plan.tornLast {
			_, _, err := tx.Set(keyLast, lastBatch{seq: last}.String(), nil)
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("journal %s: %w", s.journalPath(), err)
	}
	return nil
}

// openSyncFile opens the descriptor the store syncs the journal through,
// and syncs what open changed.
func (s *Store) openSyncFile() error {
	sf, err := os.OpenFile(s.journalPath(), os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("journal %s: %w", s.journalPath(), err)
	}
	s.syncF = sf
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
