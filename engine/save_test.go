package engine

import (
	"bytes"
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/procq/procq/record"
	"github.com/procq/procq/snapshot"
)

// TestLoadOldSnapshots: the checked-in version 1 snapshot of the fixture
// records (testdata/records.v1.snap, as files people have hold) and the
// version 2 image of them (testdata/records.v2.snap, whose postings have
// no lists) load, and they, the version 3 snapshot written from them and
// an engine of the fixture's records (testdata/records.jsonl) answer
// every fixture request byte for byte alike (TestConformance compares the
// answers of the records with the reference's).
func TestLoadOldSnapshots(t *testing.T) {
	const v1, v2 = "../testdata/records.v1.snap", "../testdata/records.v2.snap"
	engines := map[string]*Engine{}
	for path, version := range map[string]uint32{v1: snapshot.Version, v2: snapshot.VersionIndex2} {
		if h, err := snapshot.ReadHeader(path); err != nil || h.Version != version {
			t.Fatalf("%s: header %+v, %v: want a version %d snapshot", path, h, err, version)
		}
		e, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		engines[path] = e
	}
	old := engines[v1]
	v3 := filepath.Join(t.TempDir(), "v3.snap")
	if err := old.WriteSnapshot(context.Background(), v3); err != nil {
		t.Fatal(err)
	}
	if h, err := snapshot.ReadHeader(v3); err != nil || h.Version != snapshot.VersionIndex || h.Count != uint64(old.Len()) {
		t.Fatalf("%s: header %+v, %v: want version %d of %d records", v3, h, err, snapshot.VersionIndex, old.Len())
	}
	var err error
	if engines[v3], err = Load(v3); err != nil {
		t.Fatal(err)
	}
	ref, err := New(loadFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	reqs := readLines(t, "../testdata/requests.jsonl")
	for i, req := range reqs {
		r, _ := ref.Do(context.Background(), req)
		for path, e := range engines {
			if a, _ := e.Do(context.Background(), req); !bytes.Equal(a, r) {
				t.Fatalf("request %d: %s\n%s: %.500s\nrecords: %.500s", i+1, req, path, a, r)
			}
		}
	}
}

// TestWriteSnapshotDelta: an engine with a delta (upserts, deletions,
// status updates) is written with the delta folded in, and loads back
// holding the same records.
func TestWriteSnapshotDelta(t *testing.T) {
	recs := loadFixture(t)
	e, err := New(recs[:len(recs)-10])
	if err != nil {
		t.Fatal(err)
	}
	e, err = e.WithChanges(recs[len(recs)-10:], []int64{recs[0].ProcessID, recs[5].ProcessID})
	if err != nil {
		t.Fatal(err)
	}
	e, _ = e.WithStatus([]record.StatusUpdate{
		{ProcessID: recs[1].ProcessID, ProcessStatus: 9, IsAuto: true, SetProcInstInfos: true},
		{ProcessID: recs[len(recs)-1].ProcessID, ProcessStatus: 300},
	})
	if d := e.Delta(); d.Records == 0 || d.Tombstones == 0 {
		t.Fatal("no delta: the test misses its case")
	}
	path := filepath.Join(t.TempDir(), "s.snap")
	if err := e.WriteSnapshot(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var want, have []record.Record
	e.Records(func(r *record.Record) bool { want = append(want, *r); return true })
	got.Records(func(r *record.Record) bool { have = append(have, *r); return true })
	if len(have) != len(want) {
		t.Fatalf("%d records, want %d", len(have), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(want[i], have[i]) {
			t.Fatalf("record %d:\n got %+v\nwant %+v", i, have[i], want[i])
		}
	}
}
