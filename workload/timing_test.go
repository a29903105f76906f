package workload

import (
	"context"
	"testing"
)

// nopDoer answers every request at once with the same envelope.
type nopDoer struct{}

func (nopDoer) Do(context.Context, []byte) ([]byte, error) {
	return []byte(`{"result":true,"code":0,"message":"","data":{"count":0,"list":[]}}`), nil
}

// BenchmarkInProcess is the runner's own cost per request (vegeta's
// attack loop, the in-process round trip, the metrics), closed loop, on a
// Doer that does nothing.
func BenchmarkInProcess(b *testing.B) {
	for _, c := range []int{1, 8} {
		b.Run(map[int]string{1: "c1", 8: "c8"}[c], func(b *testing.B) {
			b.ReportAllocs()
			st, err := NewInProcess(nopDoer{}).Run(context.Background(), reqs("a", "b"), Plan{Concurrency: c, Count: b.N, KeepBodies: true}, func(*Sample) {})
			if err != nil || st.Sent != b.N {
				b.Fatal(st, err)
			}
		})
	}
}
