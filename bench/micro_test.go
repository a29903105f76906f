package bench

import (
	"context"
	"sync"
	"testing"

	"github.com/procq/procq/internal/baseline"
	"github.com/procq/procq/internal/synth"
)

// microData is the data set of the micro-benchmarks, built once per test
// binary: a synth data set of PROCQ_BENCH_PROCESSES processes (default
// 100,000, seed 1), procq's engine over it and the suite.
var microData = sync.OnceValues(func() (*microSet, error) {
	n := synth.BenchProcesses()
	recs, err := synth.Collect(synth.Options{Processes: n, Seed: 1})
	if err != nil {
		return nil, err
	}
	p, err := baseline.NewProcq(recs)
	if err != nil {
		return nil, err
	}
	suite, err := Suite(recs)
	if err != nil {
		return nil, err
	}
	return &microSet{procq: p, suite: suite}, nil
})

type microSet struct {
	procq *baseline.Procq
	suite []Query
}

func microSetup(b *testing.B) *microSet {
	b.Helper()
	m, err := microData()
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// BenchmarkQuery is procq's engine answering each suite query, parsed
// beforehand, as the bench command times it: go test ./bench -run '^$'
// -bench Query -count 10 > new.txt, then compare with benchstat.
func BenchmarkQuery(b *testing.B) {
	m := microSetup(b)
	ctx := context.Background()
	for _, q := range m.suite {
		b.Run(q.Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.procq.E.Query(ctx, q.Q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDo is the whole request path for each suite query: parse and
// validate the body, answer, write the response envelope.
func BenchmarkDo(b *testing.B) {
	m := microSetup(b)
	ctx := context.Background()
	for _, q := range m.suite {
		b.Run(q.Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.procq.E.Do(ctx, q.Body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
