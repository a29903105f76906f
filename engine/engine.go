package engine

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/procq/procq/api"
	"github.com/procq/procq/index"
	"github.com/procq/procq/internal/match"
	"github.com/procq/procq/record"
	"github.com/procq/procq/snapshot"
)

var (
	// ErrDuplicateProcess is returned when two records share a bk_process_id.
	ErrDuplicateProcess = errors.New("duplicate bk_process_id")
	// ErrNotCompiled is returned for a Query whose expression_scope was not
	// compiled, that is, one api.ParseRequest did not make.
	ErrNotCompiled = errors.New("expression_scope not compiled: the query must come from api.ParseRequest")
)

// Engine answers queries over one immutable set of records.
type Engine struct {
	// ix is the base: every record as of the last build or merge.
	ix *index.Index
	// d is what changed since: upserted records and tombstoned base rows.
	d delta
	// buildTime is how long building the indexes took.
	buildTime time.Duration
	// version counts the engines this one derives from, starting at 1.
	version uint64
	// terms caches the terms that expensive name patterns matched. An
	// engine made by WithStatus keeps the dictionaries, and so the cache.
	terms *termCache
}

// New indexes recs, which the engine keeps and reorders; the caller must
// not change them afterwards.
func New(recs []*record.Record) (*Engine, error) {
	start := time.Now()
	ix := index.Build(recs)
	if pid, dup := ix.DuplicateProcess(); dup {
		return nil, fmt.Errorf("%w: %d", ErrDuplicateProcess, pid)
	}
	return &Engine{ix: ix, buildTime: time.Since(start), version: 1, terms: newTermCache()}, nil
}

// Version returns the data version: 1 for an engine built by New or Load,
// one more than its origin for an engine made by WithStatus or WithChanges.
func (e *Engine) Version() uint64 { return e.version }

// WithStatus returns a new engine with the status updates applied; e is
// unchanged and keeps answering. Updates of processes in the delta copy
// their records there; for base processes no record is copied: only the
// chunks of the status columns holding updated rows and the status and
// is_auto bitmaps of the values rows move between are new. It also
// returns the ids of updates that name no process (they are skipped),
// ascending.
func (e *Engine) WithStatus(ups []record.StatusUpdate) (*Engine, []int64) {
	start := time.Now()
	d, baseUps, missing := e.withStatusDelta(ups)
	ix := e.ix
	if len(baseUps) > 0 {
		var absent []int64
		ix, absent = e.ix.WithStatus(baseUps)
		if len(missing) == 0 {
			missing = absent
		} else {
			missing = append(missing, absent...)
			slices.Sort(missing)
		}
	}
	return &Engine{ix: ix, d: d, buildTime: time.Since(start), version: e.version + 1, terms: e.terms}, missing
}

// Load reads a snapshot file: an index file (version 2 or 3) is the
// image of the indexes, read as they were written; a version 1 file's records are
// indexed. While it works it raises the garbage collector's target (see
// loadGC).
func Load(path string) (*Engine, error) {
	defer loadGC()()
	start := time.Now()
	ix, _, err := snapshot.ReadIndex(path)
	if err != nil {
		return nil, err
	}
	if pid, dup := ix.DuplicateProcess(); dup {
		return nil, fmt.Errorf("snapshot %s: %w: %d", path, ErrDuplicateProcess, pid)
	}
	return &Engine{ix: ix, buildTime: time.Since(start), version: 1, terms: newTermCache()}, nil
}

// loadGCPercent is the GC target while loading: a version 1 load builds
// hundreds of megabytes of pointer-rich records and indexes that all stay
// live, so collections during it mark the same growing heap again and
// again. At 1M records, GOGC=400 cut the CPU time of such a load by about
// a quarter (see docs/ARCHITECTURE.md). An index load reads its index
// and makes little garbage; it was not measured without the raise.
const loadGCPercent = 400

var (
	gcMu    sync.Mutex
	gcLoads int // loads in progress
	gcPrev  int // the GC percent to restore when the last load ends
)

// loadGC raises the GC percent to loadGCPercent, unless it is already
// higher or off, and returns the function that restores it once no load
// is in progress.
func loadGC() (restore func()) {
	gcMu.Lock()
	defer gcMu.Unlock()
	if gcLoads == 0 {
		gcPrev = debug.SetGCPercent(loadGCPercent)
		if gcPrev < 0 || gcPrev > loadGCPercent {
			debug.SetGCPercent(gcPrev)
		}
	}
	gcLoads++
	return func() {
		gcMu.Lock()
		defer gcMu.Unlock()
		if gcLoads--; gcLoads == 0 {
			debug.SetGCPercent(gcPrev)
		}
	}
}

// CacheStats describes the engine's term cache (the terms that expensive
// name patterns matched, kept for the next page of the same expression),
// for export as metrics.
type CacheStats struct {
	// Bytes is what the cache holds, counting every entry's pattern text,
	// its term ids and a fixed per-entry overhead.
	Bytes uint64
	// Limit is the bound on Bytes.
	Limit uint64
	// Entries is the number of patterns cached.
	Entries int
	// Evictions counts the entries dropped to stay within Limit.
	Evictions uint64
}

// CacheStats returns the term cache's figures. Engines made from e by
// WithStatus share its cache.
func (e *Engine) CacheStats() CacheStats { return e.terms.stats() }

// BuildTime returns how long building the indexes took.
func (e *Engine) BuildTime() time.Duration { return e.buildTime }

// IndexSizes returns the bytes held by each index, by name.
func (e *Engine) IndexSizes() map[string]uint64 { return e.ix.Sizes() }

// Result is the answer to a query: the number of matches and one page.
type Result struct {
	Count  uint64
	Rows   []*record.Record
	Fields record.FieldSet
	// Facets are the counts the request's facets asked, nil when none.
	Facets []api.Facet
	// Explain is how the answer was found, when the query asked.
	Explain *Explain
	// Next is the cursor of the next page of a cursor request, "" on the
	// last page.
	Next string
	// page is the page as base rows and delta records, before Rows is
	// materialized from it (Query) or it is written (DoWith).
	page []hit
}

// Query answers a request parsed by api.ParseRequest (validated, its
// expressions compiled). Its error is the context's error when ctx ends
// before the answer is ready; every long loop checks it.
func (e *Engine) Query(ctx context.Context, q *api.Query) (*Result, error) {
	res, err := e.query(ctx, q)
	if err != nil {
		return nil, err
	}
	res.Rows = e.records(res.page)
	return res, nil
}

// query is Query with the page left as res.page: base rows are not
// materialized.
func (e *Engine) query(ctx context.Context, q *api.Query) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if q.Scope == nil && q.Expr != nil && q.Expr.Compiled == nil {
		return nil, ErrNotCompiled
	}
	res := &Result{Fields: q.Fields}
	dl := newDeadline(ctx)
	var ds *deltaSide
	if !e.d.empty() {
		m, err := match.New(q)
		if err != nil {
			return nil, err
		}
		ds = &deltaSide{m: m, dl: dl}
	}
	var x *explainer
	if q.Explain {
		x = newExplainer(e, q)
		defer func() { res.Explain = &x.x }()
	}
	plan, err := e.plan(dl, q, ds, x)
	if err != nil {
		return nil, err
	}
	bm := plan.execute()
	if err := dl.err(); err != nil {
		return nil, err
	}
	if plan.empty {
		bm = nil
	}
	var dm []*record.Record
	if ds != nil {
		bm = e.live(bm)
		x.mark()
		if dm = ds.matches(e.d.recs); dl.expired() {
			return nil, ctx.Err()
		}
		x.step("delta", uint64(len(e.d.recs)), uint64(len(dm)), nil, 0)
	}
	e.addFacets(x, q, res, bm, dm)
	if bm == nil && len(dm) == 0 {
		return res, nil
	}
	var r uint64
	if bm != nil {
		r = bm.GetCardinality()
	}
	res.Count = r + uint64(len(dm))
	p := e.pagerFor(dl, q)
	off := q.Offset
	x.mark()
	defer func() { x.page(res, p.how, len(dm) > 0) }()
	if q.Cursor {
		return e.cursorPage(dl, q, &p, res, bm, plan.span, dm)
	}
	if len(dm) > 0 {
		hits := e.mergedPage(&p, q.Ordering, bm, r, plan.span, dm, off, q.Limit)
		if dl.expired() {
			return nil, ctx.Err()
		}
		res.page = hits
		return res, nil
	}
	rows := p.page(bm, r, plan.span, off, q.Limit)
	if dl.expired() {
		return nil, ctx.Err()
	}
	res.page = baseHits(rows)
	return res, nil
}

// pagerFor returns the pager of q's ordering.
func (e *Engine) pagerFor(dl *deadline, q *api.Query) pager {
	keys := make([]sortKey, 0, len(q.Ordering))
	for _, k := range q.Ordering {
		key, _ := index.KeyOf(k.Field) // api accepts only keys with an order
		keys = append(keys, sortKey{key: key, desc: k.Desc})
	}
	return pager{ix: e.ix, dl: dl, keys: normalizeOrdering(keys)}
}

// Do answers a raw request body with the response envelope. The error is
// nil on success; an *api.Error when the envelope reports a validation or
// expression error; anything else (such as the context's error) is an
// unexpected failure, and the envelope then says so with result false.
func (e *Engine) Do(ctx context.Context, body []byte) ([]byte, error) {
	return e.DoWith(ctx, body, DoOptions{})
}

// doError is the envelope of a failed Do, appended to buf[:0], and its
// error.
func (e *Engine) doError(buf []byte, err error) ([]byte, error) {
	var ae *api.Error
	if errors.As(err, &ae) {
		return api.AppendError(buf[:0], ae), err
	}
	return api.AppendError(buf[:0], &api.Error{Code: api.CodeInternal, Message: "internal error: " + err.Error()}), err
}
