package store

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/tidwall/buntdb"

	"github.com/procq/procq/record"
)

// The format 1 writers, as procq wrote format 1 journals, for the tests
// that old data directories still open.

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

func (l lastBatch) String() string {
	return strconv.FormatUint(l.seq, 10) + " " + strconv.Itoa(l.entries)
}

func TestEntryValues(t *testing.T) {
	r := &record.Record{ProcessID: 9, ProcessStatus: 2, IsAuto: true, SetName: "a\"b", ProcInstInfos: []record.ProcInstInfo{
		{ProcessID: 9, LocalInstID: 1, InstID: 7, ProcessStatus: 1, IsAuto: true}, {ProcessID: 9, LocalInstID: 2, InstID: -3}}}
	v := statusValue(r)
	if v != "S2 1 9,1,7,1,1 9,2,-3,0,0" {
		t.Fatalf("statusValue: %q", v)
	}
	got, st, err := parseEntryValue(v)
	if err != nil || got != nil || st == nil {
		t.Fatalf("parse %q: %v %v %v", v, got, st, err)
	}
	if c := withStatus(&record.Record{ProcessID: 9}, st.update(9)); !reflect.DeepEqual(c.ProcInstInfos, r.ProcInstInfos) || c.ProcessStatus != 2 || !c.IsAuto {
		t.Fatalf("applied: %+v", c)
	}
	if got, st, err := parseEntryValue(entryValue(r)); err != nil || st != nil || got.SetName != r.SetName {
		t.Fatalf("record entry: %+v %v %v", got, st, err)
	}
	if got, st, err := parseEntryValue(tombstone); err != nil || got != nil || st != nil {
		t.Fatalf("tombstone: %v %v %v", got, st, err)
	}
	for _, bad := range []string{"", "X", "S", "S1", "S1 2", "Sx 1", "S1 1 1,2,3", "S1 1 1,2,3,4,5", "U{"} {
		if _, _, err := parseEntryValue(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// writeV1 writes batches to a new format 1 journal at path, over a
// snapshot of m's records, as procq wrote them, applies them to m, and
// returns the file's size after each batch.
func writeV1(t *testing.T, path string, m model, batches [][]Op) []int64 {
	t.Helper()
	db, err := buntdb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	update := func(fn func(tx *buntdb.Tx) error) {
		t.Helper()
		if err := db.Update(fn); err != nil {
			t.Fatal(err)
		}
	}
	update(func(tx *buntdb.Tx) error {
		tx.Set(keyFormat, formatValue, nil)
		tx.Set(keyLast, lastBatch{}.String(), nil)
		_, _, err := tx.Set(keySnap, "0", nil)
		return err
	})
	type ref struct {
		seq  uint64
		full bool
	}
	latest := map[int64]ref{}
	// The entries a batch replaces are deleted by the next one, once
	// the newer are surely on disk before the deletions.
	var superseded, next []string
	var sizes []int64
	for i, ops := range batches {
		seq := uint64(i + 1)
		before := m.clone()
		m.apply(ops)
		topo := map[int64]bool{}
		touched := map[int64]bool{}
		for _, op := range ops {
			switch {
			case op.Upsert != nil:
				topo[op.Upsert.ProcessID], touched[op.Upsert.ProcessID] = true, true
			case op.Delete > 0:
				topo[op.Delete], touched[op.Delete] = true, true
			default:
				touched[op.Status.ProcessID] = true
			}
		}
		update(func(tx *buntdb.Tx) error {
			for _, k := range superseded {
				tx.Delete(k)
			}
			n := 0
			for pid := range touched {
				_, was := before[pid]
				r, is := m[pid]
				if !was && !is {
					continue
				}
				v := entryValue(r)
				full := true
				if !topo[pid] && !latest[pid].full {
					v, full = statusValue(r), false
				}
				if old, ok := latest[pid]; ok {
					next = append(next, entryKey(pid, old.seq))
				}
				tx.Set(entryKey(pid, seq), v, nil)
				latest[pid] = ref{seq, full}
				n++
			}
			_, _, err := tx.Set(keyLast, lastBatch{seq, n}.String(), nil)
			return err
		})
		superseded, next = next, superseded[:0]
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, st.Size())
	}
	return sizes
}

// TestOpenFormat1 checks that a data directory whose journal procq wrote
// in format 1 opens with every batch, is rewritten in format 2, and takes
// writes; and that a format 1 batch cut short is dropped whole, the file
// kept aside.
func TestOpenFormat1(t *testing.T) {
	ctx := context.Background()
	base := baseRecords(t, baseOptions)
	dir := initDir(t, base)
	g := newGen(base)
	rng := rand.New(rand.NewPCG(21, 21))
	var batches [][]Op
	for range 12 {
		batches = append(batches, g.batch(rng))
	}
	m := newModel(base)
	path := filepath.Join(dir, journalName)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	sizes := writeV1(t, path, m, batches)

	cut := copyDir(t, dir)
	if err := os.Truncate(filepath.Join(cut, journalName), sizes[len(sizes)-1]-3); err != nil {
		t.Fatal(err)
	}

	s := mustOpen(t, dir, Options{})
	if d := sameRecords(s.Engine(), m); d != "" {
		t.Fatalf("format 1 journal: %s", d)
	}
	if b, err := os.ReadFile(path); err != nil || !hasMagic(b) {
		t.Fatalf("journal not rewritten in format 2: %.20q, %v", b, err)
	}
	if st := s.Stats(); st.Seq != uint64(len(batches)) {
		t.Fatalf("seq %d after %d format 1 batches", st.Seq, len(batches))
	}
	ops := g.batch(rng)
	m.apply(ops)
	if _, err := s.Apply(ctx, ops); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, dir, Options{})
	if d := sameRecords(s.Engine(), m); d != "" {
		t.Fatalf("format 1 journal, written, reopened: %s", d)
	}
	s.Close()

	// The cut batch is dropped whole (or kept whole, when the cut took
	// only deletions of entries the batch before replaced: buntdb writes
	// a batch's commands in no set order).
	whole := newModel(base)
	for _, ops := range batches[:len(batches)-1] {
		whole.apply(ops)
	}
	all := whole.clone()
	all.apply(batches[len(batches)-1])
	s = mustOpen(t, cut, Options{})
	defer s.Close()
	if d := sameRecords(s.Engine(), whole); d != "" && sameRecords(s.Engine(), all) != "" {
		t.Fatalf("format 1 journal cut in its last batch: %s", d)
	}
	names, _ := filepath.Glob(filepath.Join(cut, journalName+".damaged-*"))
	if len(names) != 1 {
		t.Fatalf("kept aside: %v", names)
	}
}

// errorsIsDamage reports whether err is a *DamageError naming an offset.
func errorsIsDamage(err error) (*DamageError, bool) {
	var de *DamageError
	ok := errors.As(err, &de) && errors.Is(err, ErrCorruptJournal) && strings.Contains(err.Error(), "offset")
	return de, ok
}
