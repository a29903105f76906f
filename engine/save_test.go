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

// TestLoadV1Snapshot: the checked-in version 1 snapshot of the fixture
// records (testdata/records.v1.snap, as files people have hold) loads,
// and it, the version 2 snapshot written from it and an engine of the
// fixture's records (testdata/records.jsonl) answer every fixture request
// byte for byte alike (TestConformance compares the answers of the
// records with the reference's).
func TestLoadV1Snapshot(t *testing.T) {
	const v1 = "../testdata/records.v1.snap"
	if h, err := snapshot.ReadHeader(v1); err != nil || h.Version != snapshot.Version {
		t.Fatalf("%s: header %+v, %v: want a version 1 snapshot", v1, h, err)
	}
	old, err := Load(v1)
	if err != nil {
		t.Fatal(err)
	}
	v2 := filepath.Join(t.TempDir(), "v2.snap")
	if err := old.WriteSnapshot(context.Background(), v2); err != nil {
		t.Fatal(err)
	}
	if h, err := snapshot.ReadHeader(v2); err != nil || h.Version != snapshot.VersionIndex || h.Count != uint64(old.Len()) {
		t.Fatalf("%s: header %+v, %v: want version 2 of %d records", v2, h, err, old.Len())
	}
	cur, err := Load(v2)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := New(loadFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	reqs := readLines(t, "../testdata/requests.jsonl")
	for i, req := range reqs {
		a, _ := old.Do(context.Background(), req)
		b, _ := cur.Do(context.Background(), req)
		r, _ := ref.Do(context.Background(), req)
		if !bytes.Equal(a, b) || !bytes.Equal(a, r) {
			t.Fatalf("request %d: %s\nversion 1: %.500s\nversion 2: %.500s\nrecords: %.500s", i+1, req, a, b, r)
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
