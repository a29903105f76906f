package baseline

import (
	"cmp"
	"context"
	"slices"

	"github.com/procq/procq/api"
	"github.com/procq/procq/internal/match"
	"github.com/procq/procq/record"
)

// Scan is the simplest correct engine: it tests every record against the
// request, sorts the matches and cuts the page. It is the baseline that
// any index must beat, and the reference the others are checked against
// in tests.
type Scan struct {
	recs []*record.Record
}

// NewScan keeps recs (not copied, never changed).
func NewScan(recs []*record.Record) *Scan { return &Scan{recs: recs} }

// Name returns "scan".
func (s *Scan) Name() string { return "scan" }

// Close does nothing.
func (s *Scan) Close() error { return nil }

// Query answers q by looking at every record.
func (s *Scan) Query(ctx context.Context, q *api.Query) (Answer, error) {
	m, err := match.New(q)
	if err != nil {
		return Answer{}, err
	}
	var hits []*record.Record
	for _, r := range s.recs {
		if m.InScope(r) {
			hits = append(hits, r)
		}
	}
	if sl := m.Slice(); sl != nil {
		slices.SortFunc(hits, func(a, b *record.Record) int { return cmp.Compare(a.ProcessID, b.ProcessID) })
		start, end := sl.Bounds(len(hits))
		hits = hits[start:end]
	}
	if err := ctx.Err(); err != nil {
		return Answer{}, err
	}
	withIP := match.NeedsIP(q.Ordering)
	rows := make([]match.SortRow, 0, len(hits))
	for _, r := range hits {
		if m.Rest(r) {
			rows = append(rows, match.RowOf(r, withIP))
		}
	}
	slices.SortFunc(rows, func(a, b match.SortRow) int { return match.Compare(q.Ordering, &a, &b) })
	return Answer{Count: uint64(len(rows)), IDs: match.PageOf(rows, q.Offset, q.Limit)}, nil
}
