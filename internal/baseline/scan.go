package baseline

import (
	"cmp"
	"context"
	"slices"

	"procq/api"
	"procq/record"
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
	var hits []*record.Record
	switch {
	case q.Scope != nil:
		sc := q.Scope
		for _, r := range s.recs {
			if r.BizID == q.BizID && envOK(sc.Env, r.SetEnv) &&
				in(sc.SetIDs, r.SetID) && in(sc.ModuleIDs, r.ModuleID) &&
				in(sc.ServiceIDs, r.ServiceInstanceID) && in(sc.ProcessNames, r.ProcessName) &&
				in(sc.ProcessIDs, r.ProcessID) {
				hits = append(hits, r)
			}
		}
	case q.Expr != nil:
		m, err := matcherOf(q.Expr)
		if err != nil {
			return Answer{}, err
		}
		for _, r := range s.recs {
			if r.BizID == q.BizID && envOK(m.env, r.SetEnv) &&
				m.match(r.SetName, r.ModuleName, r.ServiceName, r.ProcessName, r.ProcessID) {
				hits = append(hits, r)
			}
		}
		if m.slice != nil {
			slices.SortFunc(hits, func(a, b *record.Record) int { return cmp.Compare(a.ProcessID, b.ProcessID) })
			start, end := m.slice.Bounds(len(hits))
			hits = hits[start:end]
		}
	}
	if err := ctx.Err(); err != nil {
		return Answer{}, err
	}
	withIP := needsIPKey(q.Ordering)
	rows := make([]sortRow, 0, len(hits))
	for _, r := range hits {
		if restOK(q, r.CloudID, r.InnerIP, r.CloudName, r.ProcessStatus, r.IsAuto) {
			rows = append(rows, rowOf(r, withIP))
		}
	}
	slices.SortFunc(rows, func(a, b sortRow) int { return compareRows(q.Ordering, &a, &b) })
	return Answer{Count: uint64(len(rows)), IDs: pageOf(rows, q.Offset, q.Limit)}, nil
}
