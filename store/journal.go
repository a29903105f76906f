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
	// An entry's value: upsertMark followed by the record's JSON,
	// statusMark followed by the status fields (see statusValue), or
	// tombstone.
	upsertMark = 'U'
	statusMark = 'S'
	tombstone  = "D"
)

// entryRef is what the store remembers of a process's newest journal
// entry: its batch, and whether it holds the whole record (or a
// tombstone) rather than the status fields alone.
type entryRef struct {
	seq  uint64
	full bool
}

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

// statusValue returns the journal value of r's status fields:
//
//	S<process_status> <is_auto 0|1>[ <bk_process_id>,<local_inst_id>,<inst_id>,<process_status>,<is_auto 0|1>]...
//
// with one group per proc_inst_infos item.
func statusValue(r *record.Record) string {
	b := make([]byte, 0, 8+40*len(r.ProcInstInfos))
	b = append(b, statusMark)
	b = strconv.AppendInt(b, r.ProcessStatus, 10)
	b = append(b, ' ')
	b = appendBit(b, r.IsAuto)
	for _, p := range r.ProcInstInfos {
		b = append(b, ' ')
		b = strconv.AppendInt(b, p.ProcessID, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, p.LocalInstID, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, p.InstID, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, p.ProcessStatus, 10)
		b = append(b, ',')
		b = appendBit(b, p.IsAuto)
	}
	return string(b)
}

func appendBit(b []byte, v bool) []byte {
	if v {
		return append(b, '1')
	}
	return append(b, '0')
}

// statusEntry is the content of a status entry.
type statusEntry struct {
	status        int64
	auto          bool
	procInstInfos []record.ProcInstInfo
}

// apply returns a copy of r with the status fields of e.
func (e *statusEntry) apply(r *record.Record) *record.Record {
	c := *r
	c.ProcessStatus, c.IsAuto, c.ProcInstInfos = e.status, e.auto, e.procInstInfos
	return &c
}

func parseBit(s string) (bool, error) {
	switch s {
	case "0":
		return false, nil
	case "1":
		return true, nil
	}
	return false, fmt.Errorf("%q is not 0 or 1", s)
}

func parseStatusValue(v string) (*statusEntry, error) {
	f := strings.Split(v[1:], " ")
	if len(f) < 2 {
		return nil, errors.New("status entry: want STATUS AUTO")
	}
	var e statusEntry
	var err error
	if e.status, err = strconv.ParseInt(f[0], 10, 64); err != nil {
		return nil, fmt.Errorf("status entry: %w", err)
	}
	if e.auto, err = parseBit(f[1]); err != nil {
		return nil, fmt.Errorf("status entry: %w", err)
	}
	for _, g := range f[2:] {
		n := strings.Split(g, ",")
		if len(n) != 5 {
			return nil, fmt.Errorf("status entry: proc_inst_infos item %q", g)
		}
		var p record.ProcInstInfo
		var errs [5]error
		p.ProcessID, errs[0] = strconv.ParseInt(n[0], 10, 64)
		p.LocalInstID, errs[1] = strconv.ParseInt(n[1], 10, 64)
		p.InstID, errs[2] = strconv.ParseInt(n[2], 10, 64)
		p.ProcessStatus, errs[3] = strconv.ParseInt(n[3], 10, 64)
		p.IsAuto, errs[4] = parseBit(n[4])
		if err := errors.Join(errs[:]...); err != nil {
			return nil, fmt.Errorf("status entry: proc_inst_infos item %q: %w", g, err)
		}
		e.procInstInfos = append(e.procInstInfos, p)
	}
	return &e, nil
}

// parseEntryValue reads a value entryValue or statusValue made: the
// record (nil for a tombstone), or the status fields.
func parseEntryValue(v string) (*record.Record, *statusEntry, error) {
	switch {
	case v == tombstone:
		return nil, nil, nil
	case len(v) > 0 && v[0] == statusMark:
		e, err := parseStatusValue(v)
		return nil, e, err
	case len(v) > 0 && v[0] == upsertMark:
		r := new(record.Record)
		if err := r.UnmarshalJSON([]byte(v[1:])); err != nil {
			return nil, nil, err
		}
		return r, nil, nil
	}
	return nil, nil, errors.New("neither a record, a status nor a tombstone")
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
