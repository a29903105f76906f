// Package baseline holds the engines procq is compared with in package
// bench: a plain Go full scan, SQLite in memory and buntdb with secondary
// indexes, each answering a parsed request the way the SPEC says, plus
// procq itself behind the same interface. They are reference
// implementations for benchmarks and tests, not for embedders.
package baseline

import (
	"context"
	"fmt"
	"slices"

	"github.com/procq/procq/api"
	"github.com/procq/procq/engine"
	"github.com/procq/procq/record"
)

// Answer is what the engines are compared on: the number of matches and
// the bk_process_id of every record of the requested page, in order.
type Answer struct {
	// Count is the number of matches before paging.
	Count uint64
	// IDs are the page's bk_process_id values in page order.
	IDs []int64
}

// Equal reports whether a and b have the same count and the same page.
func (a Answer) Equal(b Answer) bool {
	return a.Count == b.Count && slices.Equal(a.IDs, b.IDs)
}

// String describes the answer briefly, for mismatch reports.
func (a Answer) String() string {
	ids := a.IDs
	more := ""
	if len(ids) > 8 {
		ids, more = ids[:8], fmt.Sprintf(" … (%d ids)", len(a.IDs))
	}
	return fmt.Sprintf("count %d, page %v%s", a.Count, ids, more)
}

// Engine answers validated requests. Implementations are used by one
// goroutine at a time.
type Engine interface {
	// Name is the engine's short name in reports.
	Name() string
	// Query answers q.
	Query(ctx context.Context, q *api.Query) (Answer, error)
	// Close releases the engine's resources.
	Close() error
}

// Procq is the procq engine seen through the Engine interface: it calls
// (*engine.Engine).Query, so the request is parsed once beforehand and no
// response JSON is written, as for every other engine.
type Procq struct {
	E *engine.Engine
}

// NewProcq indexes a copy of recs (the engine reorders the slice it is
// given) with procq.
func NewProcq(recs []*record.Record) (*Procq, error) {
	e, err := engine.New(slices.Clone(recs))
	if err != nil {
		return nil, fmt.Errorf("procq: %w", err)
	}
	return &Procq{E: e}, nil
}

// Name returns "procq".
func (p *Procq) Name() string { return "procq" }

// Query answers q with the procq engine.
func (p *Procq) Query(ctx context.Context, q *api.Query) (Answer, error) {
	res, err := p.E.Query(ctx, q)
	if err != nil {
		return Answer{}, err
	}
	ids := make([]int64, len(res.Rows))
	for i, r := range res.Rows {
		ids[i] = r.ProcessID
	}
	return Answer{Count: res.Count, IDs: ids}, nil
}

// Close does nothing: the engine holds only memory.
func (p *Procq) Close() error { return nil }
