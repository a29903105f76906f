package store

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/tidwall/buntdb"

	"procq/engine"
	"procq/record"
	"procq/snapshot"
)

// Init makes dir, which must be missing or empty, a data directory. With
// from not "", the snapshot file at from (read and checked whole) becomes
// its first snapshot; otherwise the data starts empty. An Init cut short
// leaves a directory that Open refuses and Init calls not empty: remove it
// and run Init again.
func Init(dir, from string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("data dir %s: %w", dir, err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return err
	}
	defer unlockDir(lock)
	names, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("data dir %s: %w", dir, err)
	}
	for _, n := range names {
		if n.Name() != lockName {
			return fmt.Errorf("data dir %s: %w (holds %s)", dir, ErrExists, n.Name())
		}
	}
	if from != "" {
		if err := copySnapshot(from, filepath.Join(dir, snapName(0))); err != nil {
			return err
		}
	}
	path := filepath.Join(dir, journalName)
	db, err := openJournal(path)
	if err != nil {
		return fmt.Errorf("journal %s: %w", path, err)
	}
	err = db.Update(func(tx *buntdb.Tx) error {
		if _, _, err := tx.Set(keyFormat, formatValue, nil); err != nil {
			return err
		}
		if _, _, err := tx.Set(keyLast, lastBatch{}.String(), nil); err != nil {
			return err
		}
		if from != "" {
			if _, _, err := tx.Set(keySnap, "0", nil); err != nil {
				return err
			}
		}
		return nil
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncFile(path)
	}
	if err != nil {
		return fmt.Errorf("journal %s: %w", path, err)
	}
	return syncDir(dir)
}

// copySnapshot writes the records of the snapshot at from as a snapshot at
// to, checking that no bk_process_id appears twice.
func copySnapshot(from, to string) error {
	w, err := snapshot.Create(to)
	if err != nil {
		return err
	}
	seen := make(map[int64]struct{})
	_, err = snapshot.Read(from, func(r *record.Record) error {
		if _, dup := seen[r.ProcessID]; dup {
			return fmt.Errorf("%w: %d", engine.ErrDuplicateProcess, r.ProcessID)
		}
		seen[r.ProcessID] = struct{}{}
		return w.Append(r)
	})
	if err != nil {
		return errors.Join(err, w.Abort())
	}
	return w.Commit()
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// snapName returns the file name of the snapshot covering batch seq.
func snapName(seq uint64) string {
	var b [20]byte
	putDigits(b[:], seq)
	return snapPrefix + string(b[:]) + snapSuffix
}

// parseSnapName reads a name snapName made.
func parseSnapName(name string) (uint64, bool) {
	if len(name) != len(snapPrefix)+20+len(snapSuffix) ||
		!strings.HasPrefix(name, snapPrefix) || !strings.HasSuffix(name, snapSuffix) {
		return 0, false
	}
	seq, err := strconv.ParseUint(name[len(snapPrefix):len(snapPrefix)+20], 10, 64)
	return seq, err == nil
}

// dirFiles lists what a data directory holds: its snapshots by ascending
// seq, and the leftovers of interrupted checkpoints.
func dirFiles(dir string) (snaps []uint64, leftovers []string, err error) {
	names, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("data dir %s: %w", dir, err)
	}
	for _, n := range names {
		name := n.Name()
		if seq, ok := parseSnapName(name); ok {
			snaps = append(snaps, seq)
		} else if name == shrinkName || (strings.HasPrefix(name, "."+snapPrefix) && strings.Contains(name, snapSuffix+".tmp")) {
			leftovers = append(leftovers, name)
		}
	}
	slices.Sort(snaps)
	return snaps, leftovers, nil
}

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
// holds. The directory stays locked until Close.
func Open(dir string, opts Options) (*Store, error) {
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
	if err := s.open(); err != nil {
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

func (s *Store) open() error {
	jpath := s.journalPath()
	if _, err := os.Stat(jpath); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("data dir %s: %w", s.dir, ErrNotInitialized)
	} else if err != nil {
		return fmt.Errorf("journal %s: %w", jpath, err)
	}
	// buntdb drops a command cut short at the end of the file (and
	// truncates the file there); anything else unreadable fails.
	db, err := openJournal(jpath)
	if err != nil {
		return fmt.Errorf("journal %s: %w: %w", jpath, ErrCorruptJournal, err)
	}
	s.db = db
	js, err := readJournalState(db)
	if err != nil {
		return fmt.Errorf("journal %s: %w", jpath, err)
	}
	snaps, leftovers, err := dirFiles(s.dir)
	if err != nil {
		return err
	}
	var base uint64
	if len(snaps) > 0 {
		base = snaps[len(snaps)-1]
		s.snap = filepath.Join(s.dir, snapName(base))
	}
	if js.hasSnapMeta && (len(snaps) == 0 || base < js.snapMeta) {
		return fmt.Errorf("data dir %s: %w: the journal holds only the changes made after %s, which is not there",
			s.dir, ErrMissingSnapshot, snapName(js.snapMeta))
	}
	s.snapSeq, s.seq = base, max(base, js.last.seq)

	// Sort the entries out: those the snapshot covers (a checkpoint was cut
	// short before trimming them), those of a batch cut short by a crash,
	// those a newer entry of the same process replaces, and the rest.
	var lastCount int
	for _, k := range js.keys {
		if _, seq, _ := parseEntryKey(k); seq == js.last.seq && seq > base {
			lastCount++
		}
	}
	if lastCount > js.last.entries {
		return fmt.Errorf("journal %s: %w: batch %d has %d entries, %s says %d",
			jpath, ErrCorruptJournal, js.last.seq, lastCount, keyLast, js.last.entries)
	}
	// The newest batch lost entries to a crash: it was never acknowledged,
	// so none of it counts. (A batch the snapshot covers was trimmed.)
	tornLast := js.last.seq > base && lastCount < js.last.entries
	var drop []string
	keep := make(map[int64]string)
	keepSeq := make(map[int64]entryRef)
	torn := 0
	for _, k := range js.keys {
		pid, seq, _ := parseEntryKey(k)
		s.seq = max(s.seq, seq)
		switch {
		case seq <= base:
			// The snapshot covers it: a checkpoint was cut short before
			// trimming it.
			drop = append(drop, k)
		case seq > js.last.seq || (tornLast && seq == js.last.seq):
			// A batch cut short by a crash (past m:last: it never wrote
			// m:last).
			drop = append(drop, k)
			torn++
		default:
			if old, ok := keep[pid]; ok {
				drop = append(drop, old) // keys ascend, so k is newer
			}
			keep[pid], keepSeq[pid] = k, entryRef{seq: seq}
		}
	}
	if torn > 0 {
		s.log.Warn("dropped a journal batch cut short by a crash (it was never acknowledged)",
			"dir", s.dir, "entries", torn)
	}

	overlay := make(map[int64]*record.Record, len(keep))
	statuses := make(map[int64]*statusEntry)
	err = db.View(func(tx *buntdb.Tx) error {
		for pid, k := range keep {
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
				statuses[pid] = st
				continue
			}
			overlay[pid] = r
			keepSeq[pid] = entryRef{seq: keepSeq[pid].seq, full: true}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("journal %s: %w", jpath, err)
	}

	var recs []*record.Record
	if s.snap != "" {
		_, err := snapshot.Read(s.snap, func(r *record.Record) error {
			if st, ok := statuses[r.ProcessID]; ok {
				r = st.apply(r)
				delete(statuses, r.ProcessID)
			}
			if _, ok := overlay[r.ProcessID]; !ok {
				recs = append(recs, r)
			}
			return nil
		})
		if err != nil {
			if errors.Is(err, snapshot.ErrCorrupt) || errors.Is(err, snapshot.ErrNotSnapshot) || errors.Is(err, snapshot.ErrVersion) {
				msg := "refusing to start without it"
				if len(snaps) > 1 && (!js.hasSnapMeta || snaps[len(snaps)-2] >= js.snapMeta) {
					msg = fmt.Sprintf("%s with the journal still holds every change: move %s aside to use it",
						snapName(snaps[len(snaps)-2]), filepath.Base(s.snap))
				}
				return fmt.Errorf("data dir %s: %w: %w; %s", s.dir, ErrCorruptSnapshot, err, msg)
			}
			return fmt.Errorf("data dir %s: %w", s.dir, err)
		}
	}
	if len(statuses) > 0 {
		// Status entries are written only over a record of the snapshot.
		return fmt.Errorf("journal %s: %w: status entries for %d processes the snapshot lacks, such as bk_process_id %d",
			jpath, ErrCorruptJournal, len(statuses), slices.Min(slices.Collect(maps.Keys(statuses))))
	}
	for _, r := range overlay {
		if r != nil {
			recs = append(recs, r)
		}
	}
	e, err := engine.New(recs)
	if err != nil {
		return fmt.Errorf("data dir %s: %w", s.dir, err)
	}

	if len(drop) > 0 || tornLast {
		err := db.Update(func(tx *buntdb.Tx) error {
			for _, k := range drop {
				if _, err := tx.Delete(k); err != nil && !errors.Is(err, buntdb.ErrNotFound) {
					return err
				}
			}
			if tornLast {
				_, _, err := tx.Set(keyLast, lastBatch{seq: js.last.seq}.String(), nil)
				return err
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("journal %s: %w", jpath, err)
		}
	}
	sf, err := os.OpenFile(jpath, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("journal %s: %w", jpath, err)
	}
	s.syncF = sf
	if err := s.syncJournal(); err != nil {
		return err
	}
	s.latest = keepSeq

	// Older snapshots are of no use once a newer one is there: the journal
	// no longer holds what they miss.
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
	if removed {
		if err := syncDir(s.dir); err != nil {
			return err
		}
	}
	s.live.Store(e)
	s.log.Info("data dir opened", "dir", s.dir, "snapshot", filepath.Base(s.snap), "records", e.Len(),
		"journal_entries", len(keep), "seq", s.seq)
	return nil
}
