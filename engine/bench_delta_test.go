package engine

import (
	"context"
	"strconv"
	"testing"

	"github.com/procq/procq/record"
)

// withDelta returns e with a delta of n records: every other one replaces
// a base process spread over the data and moves it in the topology, the
// others are new processes.
func withDelta(b *testing.B, e *Engine, n int) *Engine {
	b.Helper()
	if n == 0 {
		return e
	}
	ups := make([]*record.Record, 0, n)
	step := max(1, e.ix.Len()/n)
	for i := range n {
		c := *e.ix.Record(uint32((i * step) % e.ix.Len()))
		c.SetID, c.ModuleID, c.ProcessStatus = c.SetID+1, c.ModuleID+1, (c.ProcessStatus+1)%3
		if i%2 == 1 {
			c.ProcessID = 1<<40 + int64(i)
		}
		ups = append(ups, &c)
	}
	d, err := e.WithChanges(ups, nil)
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkWriteOne upserts one record (a base process moved elsewhere)
// and deletes one, on the bench engine with an empty delta and with one
// at the merge threshold: the cost must not grow with the data set.
func BenchmarkWriteOne(b *testing.B) {
	base, err := benchEngine()
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{0, DefaultMergeAt} {
		e := withDelta(b, base, n)
		r := *base.ix.Record(uint32(base.ix.Len() / 3))
		r.ModuleID, r.InnerIP = r.ModuleID+7, "10.9.9.9"
		pid := base.ix.ProcessID(uint32(base.ix.Len() / 2))
		b.Run("upsert/delta="+strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.WithChanges([]*record.Record{&r}, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("delete/delta="+strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.WithChanges(nil, []int64{pid}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkQueryDelta answers the bench queries with deltas of growing
// size, side by side with an empty one: what a delta costs a query, which
// bounds the merge threshold.
func BenchmarkQueryDelta(b *testing.B) {
	base, err := benchEngine()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, n := range []int{0, 256, 1024, 2048, 8192} {
		e := withDelta(b, base, n)
		for _, q := range benchQueries {
			b.Run(q.name+"/delta="+strconv.Itoa(n), func(b *testing.B) {
				body := []byte(q.body)
				if _, err := e.Do(ctx, body); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := e.Do(ctx, body); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkMerge folds a delta at the merge threshold into a new base: a
// full build, run in the background by the store.
func BenchmarkMerge(b *testing.B) {
	base, err := benchEngine()
	if err != nil {
		b.Fatal(err)
	}
	e := withDelta(b, base, DefaultMergeAt)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Merge(); err != nil {
			b.Fatal(err)
		}
	}
}
