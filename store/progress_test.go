package store

import (
	"context"
	"testing"
)

// TestCheckpointProgress: a checkpoint tells its progress from 0 to every
// record of the new snapshot, never beyond.
func TestCheckpointProgress(t *testing.T) {
	recs := baseRecords(t, baseOptions)
	var calls [][2]int
	s, err := Open(initDir(t, recs), Options{CheckpointProgress: func(done, total int) {
		calls = append(calls, [2]int{done, total})
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Delete(context.Background(), []int64{recs[0].ProcessID}); err != nil {
		t.Fatal(err)
	}
	info, err := s.Checkpoint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := len(recs) - 1
	if info.Records != n || len(calls) < 2 || calls[0] != [2]int{0, n} || calls[len(calls)-1] != [2]int{n, n} {
		t.Fatalf("checkpoint of %d records: progress %v", info.Records, calls)
	}
}
