package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/procq/procq/internal/synth"
	"github.com/procq/procq/record"
)

// smallJournal makes a data directory over a small data set and writes a
// few batches to it, the last ones split into several records. It
// returns the directory, the journal's bytes, and after each
// acknowledged batch (the first entry: none) the data and the journal's
// size.
func smallJournal(t *testing.T) (string, []byte, []model, []int64) {
	t.Helper()
	old := maxPart
	maxPart = 300
	t.Cleanup(func() { maxPart = old })
	base := baseRecords(t, synth.Options{Processes: 30, Seed: 3})
	dir := initDir(t, base)
	s := mustOpen(t, dir, Options{CheckpointBytes: -1})
	defer s.Close()
	g := newGen(base)
	rng := rand.New(rand.NewPCG(8, 8))
	pid := func(i int) int64 { return base[i].ProcessID }
	batches := [][]Op{
		{{Status: &record.StatusUpdate{ProcessID: pid(0), ProcessStatus: 2}}},
		{{Upsert: g.record(rng, 9_000_000_001)}, {Delete: pid(1)}},
		{{Status: g.status(rng, pid(2))}, {Status: g.status(rng, pid(3))}, {Status: g.status(rng, 9_000_000_001)},
			{Status: &record.StatusUpdate{ProcessID: pid(4), ProcessStatus: 1, IsAuto: true, SetProcInstInfos: true}}},
		{{Delete: pid(5)}, {Delete: pid(6)}, {Status: &record.StatusUpdate{ProcessID: pid(0), ProcessStatus: 1}}},
	}
	models := []model{newModel(base)}
	sizes := []int64{s.journalSize()}
	for _, ops := range batches {
		m := models[len(models)-1].clone()
		m.apply(ops)
		if _, err := s.Apply(context.Background(), ops); err != nil {
			t.Fatal(err)
		}
		models, sizes = append(models, m), append(sizes, s.journalSize())
	}
	data, err := os.ReadFile(filepath.Join(dir, journalName))
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(data)) != sizes[len(sizes)-1] {
		t.Fatalf("journal of %d bytes, the store says %d", len(data), sizes[len(sizes)-1])
	}
	return dir, data, models, sizes
}

// openWith writes journal as dir's journal, removes what an earlier open
// kept aside, and opens dir.
func openWith(t *testing.T, dir string, journal []byte) (*Store, error) {
	t.Helper()
	aside, _ := filepath.Glob(filepath.Join(dir, journalName+".damaged-*"))
	for _, p := range aside {
		os.Remove(p)
	}
	if err := os.WriteFile(filepath.Join(dir, journalName), journal, 0o644); err != nil {
		t.Fatal(err)
	}
	return Open(dir, Options{CheckpointBytes: -1})
}

// TestJournalByteFlips flips each byte of a small journal in turn: Open
// must refuse it with a DamageError naming the file and an offset at or
// before the flipped byte, and change nothing on disk.
func TestJournalByteFlips(t *testing.T) {
	dir, data, _, _ := smallJournal(t)
	for i := range data {
		b := slices.Clone(data)
		b[i] ^= 1 << (i % 8)
		s, err := openWith(t, dir, b)
		if err == nil {
			s.Close()
			t.Fatalf("byte %d flipped: Open succeeded", i)
		}
		de, ok := errorsIsDamage(err)
		if !ok || de.Offset > int64(i) || !strings.Contains(err.Error(), journalName) {
			t.Fatalf("byte %d flipped: %v, want a DamageError at or before it", i, err)
		}
		if got, _ := os.ReadFile(filepath.Join(dir, journalName)); !bytes.Equal(got, b) {
			t.Fatalf("byte %d flipped: Open changed the journal", i)
		}
	}
}

// TestJournalTruncations cuts a small journal at every byte: Open must
// refuse a file cut inside its header, and otherwise hold every batch
// that ends before the cut and none after it; a cut inside a batch
// (a torn tail) leaves the whole file kept aside.
func TestJournalTruncations(t *testing.T) {
	dir, data, models, sizes := smallJournal(t)
	// Each open syncs a few files: cuts are spread over directories
	// opened side by side.
	const workers = 8
	for w := range int64(workers) {
		t.Run(fmt.Sprint(w), func(t *testing.T) {
			t.Parallel()
			dir := copyDir(t, dir)
			for cut := w; cut < int64(len(data)); cut += workers {
				checkCut(t, dir, data, cut, models, sizes)
			}
		})
	}
}

// checkCut opens dir with its journal, data, cut at cut.
func checkCut(t *testing.T, dir string, data []byte, cut int64, models []model, sizes []int64) {
	t.Helper()
	s, err := openWith(t, dir, data[:cut])
	if cut < int64(len(journalMagic)) {
		if _, ok := errorsIsDamage(err); !ok {
			t.Fatalf("cut at %d: %v, want a DamageError", cut, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("cut at %d: %v", cut, err)
	}
	j := 0 // the batches whole before the cut
	for j+1 < len(sizes) && sizes[j+1] <= cut {
		j++
	}
	if d := sameRecords(s.Engine(), models[j]); d != "" {
		t.Fatalf("cut at %d: want the data after batch %d: %s", cut, j, d)
	}
	if st := s.Stats(); st.Seq != uint64(j) || st.JournalBytes > cut {
		t.Fatalf("cut at %d: stats %+v, want seq %d", cut, st, j)
	}
	s.Close()
	aside, _ := filepath.Glob(filepath.Join(dir, journalName+".damaged-*"))
	torn := cut > sizes[0] && !slices.Contains(sizes, cut)
	switch {
	case torn && len(aside) != 1:
		t.Fatalf("cut at %d inside a batch: kept aside %v", cut, aside)
	case torn:
		if kept, _ := os.ReadFile(aside[0]); !bytes.Equal(kept, data[:cut]) {
			t.Fatalf("cut at %d: the file kept aside is not the journal as it was", cut)
		}
	case !torn && cut >= sizes[0] && len(aside) != 0:
		t.Fatalf("cut at %d, between batches: kept aside %v", cut, aside)
	}
}

// TestTornTailWarning checks what the warning about a torn tail says: the
// batch, the bytes dropped and where, and not that it was never
// acknowledged.
func TestTornTailWarning(t *testing.T) {
	dir, data, _, _ := smallJournal(t)
	var log bytes.Buffer
	if err := os.WriteFile(filepath.Join(dir, journalName), data[:len(data)-5], 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, Options{CheckpointBytes: -1, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	out := log.String()
	for _, want := range []string{"seq=4", "offset=", "bytes=", "kept_aside="} {
		if !strings.Contains(out, want) {
			t.Errorf("warning lacks %q: %s", want, out)
		}
	}
	if strings.Contains(out, "never acknowledged") {
		t.Errorf("warning claims the batch was never acknowledged: %s", out)
	}
}

// TestBatchRoundTrip checks that a batch reads back as written, whole or
// in parts.
func TestBatchRoundTrip(t *testing.T) {
	recs := baseRecords(t, synth.Options{Processes: 5, Seed: 1})
	tests := []struct {
		name string
		b    journalBatch
		part int
	}{
		{"empty", journalBatch{}, 1 << 20},
		{"status", journalBatch{status: []record.StatusUpdate{
			{ProcessID: 1, ProcessStatus: -2, IsAuto: true},
			{ProcessID: 1 << 62, ProcessStatus: 1 << 40, SetProcInstInfos: true},
			{ProcessID: 3, SetProcInstInfos: true, ProcInstInfos: []record.ProcInstInfo{
				{ProcessID: 3, LocalInstID: -1, InstID: 1 << 50, ProcessStatus: 2, IsAuto: true}, {ProcessID: 3}}},
		}}, 1 << 20},
		{"mixed", journalBatch{ups: recs[:3], dels: []int64{7, 1 << 62}, status: []record.StatusUpdate{{ProcessID: 9}}}, 1 << 20},
		{"mixed in parts", journalBatch{ups: recs, dels: []int64{7, 8, 9}, status: []record.StatusUpdate{{ProcessID: 9}, {ProcessID: 10}}}, 100},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := maxPart
			maxPart = tc.part
			defer func() { maxPart = old }()
			data := append([]byte(journalMagic), encodeBatch(42, &tc.b)...)
			sc, err := scanJournal("j", data)
			if err != nil || sc.torn != nil || len(sc.batches) != 1 || sc.batches[0].seq != 42 {
				t.Fatalf("scan: %+v, %v", sc, err)
			}
			var got journalBatch
			for _, v := range sc.parts[0] {
				if _, _, err := decodeBatchPart(v, &got); err != nil {
					t.Fatal(err)
				}
			}
			if tc.part < 1<<20 && len(sc.parts[0]) < 2 {
				t.Errorf("%d parts, want several", len(sc.parts[0]))
			}
			if got.len() != tc.b.len() || !reflect.DeepEqual(got.dels, tc.b.dels) || !reflect.DeepEqual(got.status, tc.b.status) {
				t.Fatalf("read back %+v, want %+v", got, tc.b)
			}
			for i, r := range got.ups {
				if !bytes.Equal(r.AppendJSON(nil, 0), tc.b.ups[i].AppendJSON(nil, 0)) {
					t.Fatalf("upsert %d differs", i)
				}
			}
		})
	}
}

// FuzzJournal reads arbitrary bytes as a journal and its batches: never a
// panic, and no allocation beyond what the bytes can hold.
func FuzzJournal(f *testing.F) {
	recs, err := generate(synth.Options{Processes: 3, Seed: 1})
	if err != nil {
		f.Fatal(err)
	}
	b := &journalBatch{ups: recs[:1], dels: []int64{5}, status: []record.StatusUpdate{
		{ProcessID: 2, SetProcInstInfos: true, ProcInstInfos: []record.ProcInstInfo{{ProcessID: 2, InstID: 3}}}}}
	valid := append(appendFrame([]byte(journalMagic), kindSnap, 3, nil), encodeBatch(4, b)...)
	f.Add(valid)
	f.Add(valid[:len(valid)-7])
	// A snapshot mark naming a stream position, then a batch with its
	// stream record (stream.go).
	streamed := &journalBatch{dels: []int64{5}, stream: 9}
	f.Add(append(appendFrame([]byte(journalMagic), kindSnap, 3, markValue(7)), encodeBatch(4, streamed)...))
	f.Add([]byte(journalMagic))
	f.Add(appendFrame([]byte(journalMagic), kindBatch, 1, []byte{0, 1, 0xff, 0xff, 0xff, 0xff, 0x0f}))
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := scanJournal("fuzz", data)
		if err != nil {
			if !errors.Is(err, ErrCorruptJournal) {
				t.Fatalf("error %v is not ErrCorruptJournal", err)
			}
			return
		}
		if sc.end > int64(len(data)) {
			t.Fatalf("whole records end at %d, past %d", sc.end, len(data))
		}
		for _, parts := range sc.parts {
			var jb journalBatch
			for _, v := range parts {
				decodeBatchPart(v, &jb)
			}
			if n := jb.len(); n > len(data) {
				t.Fatalf("%d items from %d bytes", n, len(data))
			}
		}
		// Every length is bounded by the bytes left.
		decodeBatchPart(data, &journalBatch{})
	})
}

// TestRepair damages one batch of a small journal: Open refuses it,
// Repair keeps every other batch and the damaged file, and Open then
// holds them.
func TestRepair(t *testing.T) {
	dir, data, models, sizes := smallJournal(t)
	if rep, err := Repair(dir); err != nil || rep.KeptAside != "" || len(rep.Dropped) != 0 {
		t.Fatalf("Repair of a sound journal: %+v, %v", rep, err)
	}
	tests := []struct {
		name  string
		at    int64 // the byte flipped, or the length cut to
		cut   bool
		kept  []uint64
		model int // the data after Open, -1 when not one of models
	}{
		{"last batch flipped", sizes[3] + 20, false, []uint64{1, 2, 3}, 3},
		{"torn tail", sizes[4] - 3, true, []uint64{1, 2, 3}, 3},
		{"first batch flipped", sizes[0] + 14, false, []uint64{2, 3, 4}, -1},
		{"header flipped", 3, false, []uint64{1, 2, 3, 4}, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := slices.Clone(data)
			if tc.cut {
				b = b[:tc.at]
			} else {
				b[tc.at] ^= 0x10
			}
			d := copyDir(t, dir)
			if err := os.WriteFile(filepath.Join(d, journalName), b, 0o644); err != nil {
				t.Fatal(err)
			}
			rep, err := Repair(d)
			if err != nil || !slices.Equal(rep.Kept, tc.kept) || len(rep.Dropped) == 0 || rep.KeptAside == "" {
				t.Fatalf("Repair: %+v, %v; want batches %v kept", rep, err, tc.kept)
			}
			if kept, _ := os.ReadFile(rep.KeptAside); !bytes.Equal(kept, b) {
				t.Fatal("the file kept aside is not the damaged journal")
			}
			s, err := Open(d, Options{})
			if err != nil {
				t.Fatalf("Open after Repair: %v", err)
			}
			defer s.Close()
			if tc.model >= 0 {
				if diff := sameRecords(s.Engine(), models[tc.model]); diff != "" {
					t.Fatal(diff)
				}
			}
			if st := s.Stats(); st.Seq != tc.kept[len(tc.kept)-1] {
				t.Fatalf("seq %d after Repair", st.Seq)
			}
		})
	}
}
