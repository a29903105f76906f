// Package bench compares procq with the stores a team would otherwise use
// to answer the GSEKit process_status request, side by side in one
// process, on the same records and the same questions.
//
// A Suite is a list of named queries, built from the records of the
// largest business of a data set so that every id and name it uses
// exists. Run loads the records into every engine (procq, a plain Go full
// scan, SQLite in memory through modernc.org/sqlite, and buntdb with
// secondary indexes), checks that all of them give the same count and the
// same page for every query, and only then times them, one query at a
// time and engine after engine so that a noisy machine disturbs all of
// them alike. The Report holds median and p99 latency, allocations per
// query and each engine's ratio to procq.
package bench

import (
	"context"

	"github.com/procq/procq/internal/baseline"
	"github.com/procq/procq/record"
)

// Engine answers parsed requests; procq and every baseline implement it.
type Engine = baseline.Engine

// Answer is what the engines are compared on (see baseline.Answer).
type Answer = baseline.Answer

// Loader loads records into a baseline engine; progress, when not nil,
// is told how far along the load is.
type Loader func(ctx context.Context, recs []*record.Record, progress func(done, total int)) (Engine, error)

// registered is a baseline engine procq is compared with.
type registered struct {
	name string
	load Loader
}

// registry holds the baselines in report order.
var registry = []registered{
	{"scan", func(_ context.Context, recs []*record.Record, _ func(int, int)) (Engine, error) {
		return baseline.NewScan(recs), nil
	}},
	{"sqlite", func(ctx context.Context, recs []*record.Record, progress func(int, int)) (Engine, error) {
		return baseline.NewSQLite(ctx, recs, progress)
	}},
	{"buntdb", func(_ context.Context, recs []*record.Record, progress func(int, int)) (Engine, error) {
		return baseline.NewBuntdb(recs, progress)
	}},
}

// Baselines are the names of the engines procq is compared with, in
// report order.
var Baselines = baselineNames()

func baselineNames() []string {
	names := make([]string, len(registry))
	for i, b := range registry {
		names[i] = b.name
	}
	return names
}
