package store

// Reading format 1 journals: the buntdb append-only file of one key per
// changed process that procq wrote before format 2 (see frame.go). Open
// reads one into a journalOverlay and rewrites it as format 2; nothing
// writes format 1 any more.

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/tidwall/buntdb"

	"github.com/procq/procq/record"
)

// Format 1 journal keys and values: m:format, m:last ("<seq> <entries>"
// of the newest batch), m:snap, and p:<19-digit bk_process_id>:<20-digit
// seq> holding upsertMark and the record's JSON, statusMark and the
// status fields, or tombstone.
const (
	keyFormat   = "m:format"
	keyLast     = "m:last"
	keySnap     = "m:snap"
	entryPrefix = "p:"
	formatValue = "procq-journal 1"
	upsertMark  = 'U'
	statusMark  = 'S'
	tombstone   = "D"
)

// parseEntryKey reads a format 1 entry key.
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

// statusEntry is the content of a status entry.
type statusEntry struct {
	status        int64
	auto          bool
	procInstInfos []record.ProcInstInfo
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

// parseEntryValue reads a format 1 entry value: the record (nil for a
// tombstone), or the status fields.
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

// get returns the value of key, "" and false when it is absent.
func get(tx *buntdb.Tx, key string) (string, bool, error) {
	v, err := tx.Get(key)
	if errors.Is(err, buntdb.ErrNotFound) {
		return "", false, nil
	}
	return v, err == nil, err
}

// update returns e as the status update it stands for.
func (e *statusEntry) update(pid int64) record.StatusUpdate {
	return record.StatusUpdate{ProcessID: pid, ProcessStatus: e.status, IsAuto: e.auto,
		SetProcInstInfos: true, ProcInstInfos: e.procInstInfos}
}

// v1Journal is what a format 1 journal holds over the snapshot of base.
type v1Journal struct {
	ov          journalOverlay
	last        uint64 // the newest batch seq any key names
	snapMeta    uint64 // m:snap
	hasSnapMeta bool
	// torn counts the entries of batches cut short by a crash, which
	// are dropped; tornTail says that the file ended inside a command.
	torn     int
	tornTail bool
}

// readV1 reads the format 1 journal at path, without changing it,
// against the snapshot covering batch base.
func readV1(path string, base uint64) (v1Journal, error) {
	f, err := os.Open(path)
	if err != nil {
		return v1Journal{}, err
	}
	defer f.Close()
	db, err := buntdb.Open(":memory:")
	if err != nil {
		return v1Journal{}, err
	}
	defer db.Close()
	var j v1Journal
	// buntdb stops at a command cut short at the end of the file, keeping
	// the commands before it; anything else unreadable fails.
	if err := db.Load(f); errors.Is(err, io.ErrUnexpectedEOF) {
		j.tornTail = true
	} else if err != nil {
		return v1Journal{}, fmt.Errorf("%w: format 1: %w", ErrCorruptJournal, err)
	}
	js, err := readJournalState(db)
	if err != nil {
		return v1Journal{}, err
	}
	j.snapMeta, j.hasSnapMeta, j.last = js.snapMeta, js.hasSnapMeta, js.last.seq
	keep, err := planV1(js, base, &j)
	if err != nil {
		return v1Journal{}, err
	}
	if j.ov, err = readEntries(db, keep); err != nil {
		return v1Journal{}, err
	}
	return j, nil
}

// v1State is what readV1 reads from the journal before its entries.
type v1State struct {
	snapMeta    uint64 // m:snap
	hasSnapMeta bool
	last        lastBatch
	keys        []string // every entry key, in key order
}

func readJournalState(db *buntdb.DB) (v1State, error) {
	var js v1State
	err := db.View(func(tx *buntdb.Tx) error {
		v, ok, err := get(tx, keyFormat)
		if err != nil {
			return err
		}
		if !ok || v != formatValue {
			return fmt.Errorf("%w: format 1: %s is %q, want %q", ErrCorruptJournal, keyFormat, v, formatValue)
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

// planV1 returns each process's newest entry of a whole batch newer than
// the snapshot of base, counting in j the entries of batches cut short by
// a crash and raising j.last to the newest seq of any key.
func planV1(js v1State, base uint64, j *v1Journal) (map[int64]string, error) {
	lastCount := 0
	for _, k := range js.keys {
		if _, seq, _ := parseEntryKey(k); seq == js.last.seq && seq > base {
			lastCount++
		}
	}
	if lastCount > js.last.entries {
		return nil, fmt.Errorf("%w: batch %d has %d entries, %s says %d",
			ErrCorruptJournal, js.last.seq, lastCount, keyLast, js.last.entries)
	}
	// The newest batch lost entries to a crash: it was never
	// acknowledged, so none of it counts.
	tornLast := js.last.seq > base && lastCount < js.last.entries
	keep := make(map[int64]string)
	for _, k := range js.keys {
		pid, seq, _ := parseEntryKey(k)
		j.last = max(j.last, seq)
		switch {
		case seq <= base:
		case seq > js.last.seq || (tornLast && seq == js.last.seq):
			j.torn++
		default:
			keep[pid] = k // keys ascend by process, then batch
		}
	}
	return keep, nil
}

// readEntries reads the entries keep names into an overlay.
func readEntries(db *buntdb.DB, keep map[int64]string) (journalOverlay, error) {
	ov := newOverlay()
	err := db.View(func(tx *buntdb.Tx) error {
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
				ov.statuses[pid] = st.update(pid)
				continue
			}
			ov.records[pid] = r
		}
		return nil
	})
	return ov, err
}

// v1Log describes j for the log.
func (j v1Journal) logAttrs() []any {
	return []any{slog.Int("dropped_entries", j.torn), slog.Bool("torn_tail", j.tornTail), slog.Uint64("seq", j.last)}
}
