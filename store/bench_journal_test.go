package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkWriteBatch times the journal's part of a status batch alone:
// encoding it, one write and, with SyncAlways, one fsync.
func BenchmarkWriteBatch(b *testing.B) {
	recs, _ := benchData(b)
	for _, n := range []int{1, 100000} {
		n = min(n, len(recs))
		rng := rand.New(rand.NewPCG(6, uint64(n)))
		jb := &journalBatch{status: statusBatch(rng, recs, n)}
		for _, p := range []SyncPolicy{SyncAlways, SyncNever} {
			b.Run(fmt.Sprintf("status=%d/sync-%v", n, p), func(b *testing.B) {
				s := benchStore(b, Options{Sync: p, CheckpointBytes: -1})
				s.mu.Lock()
				defer s.mu.Unlock()
				before := s.journalSize()
				b.ResetTimer()
				for i := range b.N {
					if err := s.writeBatch(context.Background(), s.seq+uint64(i)+1, jb); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(s.journalSize()-before)/float64(b.N), "journal-B/op")
			})
		}
	}
}
