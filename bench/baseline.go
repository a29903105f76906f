package bench

import (
	"context"

	"procq/record"
)

// Loader loads records into a baseline engine; progress, when not nil,
// is told how far along the load is.
type Loader func(ctx context.Context, recs []*record.Record, progress func(done, total int)) (Engine, error)

// baseline is a registered engine procq is compared with.
type baseline struct {
	name string
	load Loader
}

// registry holds the baselines in report order.
var registry = []baseline{
	{"scan", func(_ context.Context, recs []*record.Record, _ func(int, int)) (Engine, error) {
		return NewScan(recs), nil
	}},
	{"sqlite", func(ctx context.Context, recs []*record.Record, progress func(int, int)) (Engine, error) {
		return NewSQLite(ctx, recs, progress)
	}},
	{"buntdb", func(_ context.Context, recs []*record.Record, progress func(int, int)) (Engine, error) {
		return NewBuntdb(recs, progress)
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
