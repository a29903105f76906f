package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/tidwall/buntdb"

	"procq/record"
)

// Journal keys and values.
const (
	keyFormat   = "m:format"
	keyLast     = "m:last"
	keySnap     = "m:snap"
	entryPrefix = "p:"
	formatValue = "procq-journal 1"
	// An entry's value: upsertMark followed by the record's JSON, or
	// tombstone.
	upsertMark = 'U'
	tombstone  = "D"
)

// entryKey returns the journal key of process pid written by batch seq.
// Both numbers are zero-padded so that keys sort by process, then batch.
func entryKey(pid int64, seq uint64) string {
	var b [2 + 19 + 1 + 20]byte
	copy(b[:], entryPrefix)
	putDigits(b[2:21], uint64(pid))
	b[21] = ':'
	putDigits(b[22:], seq)
	return string(b[:])
}

func putDigits(b []byte, v uint64) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
}

// parseEntryKey reads a key entryKey made.
func parseEntryKey(k string) (pid int64, seq uint64, ok bool) {
	if len(k) != 42 || !strings.HasPrefix(k, entryPrefix) || k[21] != ':' {
		return 0, 0, false
	}
	p, err1 := strconv.ParseInt(k[2:21], 10, 64)
	q, err2 := strconv.ParseUint(k[22:], 10, 64)
	if err1 != nil || err2 != nil || p <= 0 {
		return 0, 0, false
	}
	return p, q, true
}

// entryValue returns the journal value of r, a tombstone when r is nil.
func entryValue(r *record.Record) string {
	if r == nil {
		return tombstone
	}
	b := make([]byte, 0, 768)
	b = append(b, upsertMark)
	return string(r.AppendJSON(b, 0))
}

// parseEntryValue reads a value entryValue made: the record, nil for a
// tombstone.
func parseEntryValue(v string) (*record.Record, error) {
	if v == tombstone {
		return nil, nil
	}
	if len(v) == 0 || v[0] != upsertMark {
		return nil, errors.New("neither a record nor a tombstone")
	}
	r := new(record.Record)
	if err := r.UnmarshalJSON([]byte(v[1:])); err != nil {
		return nil, err
	}
	return r, nil
}

// lastBatch is the value of keyLast: the newest batch and its entry count.
type lastBatch struct {
	seq     uint64
	entries int
}

func (l lastBatch) String() string {
	return strconv.FormatUint(l.seq, 10) + " " + strconv.Itoa(l.entries)
}

func parseLastBatch(v string) (lastBatch, error) {
	a, b, ok := strings.Cut(v, " ")
	if !ok {
		return lastBatch{}, fmt.Errorf("%s %q: want SEQ ENTRIES", keyLast, v)
	}
	seq, err1 := strconv.ParseUint(a, 10, 64)
	n, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || n < 0 {
		return lastBatch{}, fmt.Errorf("%s %q: want SEQ ENTRIES", keyLast, v)
	}
	return lastBatch{seq, n}, nil
}

// openJournal opens the buntdb file at path with the store's settings:
// buntdb never syncs or shrinks by itself (the store does both).
func openJournal(path string) (*buntdb.DB, error) {
	db, err := buntdb.Open(path)
	if err != nil {
		return nil, err
	}
	if err := db.SetConfig(buntdb.Config{SyncPolicy: buntdb.Never, AutoShrinkDisabled: true}); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// get returns the value of key, "" and false when it is absent.
func get(tx *buntdb.Tx, key string) (string, bool, error) {
	v, err := tx.Get(key)
	if errors.Is(err, buntdb.ErrNotFound) {
		return "", false, nil
	}
	return v, err == nil, err
}

// shrink rewrites the journal file with only the entries it holds now:
// buntdb's items go to a temporary file that is synced and renamed over
// the journal, and the journal is opened again. The caller holds s.mu.
// (buntdb's own Shrink neither syncs the new file nor the directory.)
func (s *Store) shrink() error {
	path := s.journalPath()
	tmp := filepath.Join(s.dir, shrinkName)
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("journal %s: shrink: %w", path, err)
	}
	err = s.db.Save(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("journal %s: shrink: %w", path, err)
	}
	// From here on a failure leaves the store without a journal to write
	// to: it fails, and the files on disk (either journal) stay valid.
	fail := func(err error) error {
		err = fmt.Errorf("journal %s: shrink: %w", path, err)
		s.failed = err
		return err
	}
	if err := s.db.Close(); err != nil {
		return fail(err)
	}
	s.fileMu.Lock()
	if s.syncF != nil {
		s.syncF.Close()
		s.syncF = nil
	}
	s.fileMu.Unlock()
	s.at("shrink-written")
	if err := os.Rename(tmp, path); err != nil {
		return fail(err)
	}
	s.at("shrink-renamed")
	if err := syncDir(s.dir); err != nil {
		return fail(err)
	}
	db, err := openJournal(path)
	if err != nil {
		return fail(err)
	}
	s.db = db
	sf, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fail(err)
	}
	s.fileMu.Lock()
	s.syncF, s.dirty = sf, false
	s.fileMu.Unlock()
	return nil
}

// syncDir syncs a directory so that renames and removals in it last.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if errors.Is(err, syscall.EINVAL) { // file systems that cannot sync a directory
		err = nil
	}
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
