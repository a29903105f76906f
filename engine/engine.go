package engine

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"procq/api"
	"procq/index"
	"procq/record"
	"procq/snapshot"
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
	ix *index.Index
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
// unchanged and keeps answering. Records are not copied: only the chunks
// of the status columns holding updated rows and the status and is_auto
// bitmaps of the values rows move between are new. It also returns the ids
// of updates that name no process (they are skipped).
func (e *Engine) WithStatus(ups []record.StatusUpdate) (*Engine, []int64) {
	start := time.Now()
	ix, missing := e.ix.WithStatus(ups)
	return &Engine{ix: ix, buildTime: time.Since(start), version: e.version + 1, terms: e.terms}, missing
}

// WithChanges returns a new engine with upserts (replacing any record with
// the same bk_process_id) and deletions applied; e is unchanged. Topology
// changes renumber rows, so the indexes are rebuilt. Deleting an absent id
// is not an error.
func (e *Engine) WithChanges(upserts []*record.Record, deletes []int64) (*Engine, error) {
	drop := make(map[int64]bool, len(upserts)+len(deletes))
	for _, pid := range deletes {
		drop[pid] = true
	}
	for _, r := range upserts {
		if r.ProcessID <= 0 {
			return nil, fmt.Errorf("upsert: bk_process_id must be > 0, got %d", r.ProcessID)
		}
		drop[r.ProcessID] = true
	}
	recs := make([]*record.Record, 0, e.ix.Len()+len(upserts))
	for row := range uint32(e.ix.Len()) {
		if !drop[e.ix.ProcessID(row)] {
			recs = append(recs, e.ix.Record(row))
		}
	}
	// A later upsert of the same id wins.
	last := make(map[int64]int, len(upserts))
	for i, r := range upserts {
		last[r.ProcessID] = i
	}
	for i, r := range upserts {
		if last[r.ProcessID] == i {
			recs = append(recs, r)
		}
	}
	n, err := New(recs)
	if err != nil {
		return nil, err
	}
	n.version = e.version + 1
	return n, nil
}

// Load reads a snapshot file and indexes its records. While it works it
// raises the garbage collector's target (see loadGC).
func Load(path string) (*Engine, error) {
	defer loadGC()()
	var recs []*record.Record
	if _, err := snapshot.Read(path, func(r *record.Record) error {
		recs = append(recs, r)
		return nil
	}); err != nil {
		return nil, err
	}
	e, err := New(recs)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", path, err)
	}
	return e, nil
}

// loadGCPercent is the GC target while loading: a load builds hundreds of
// megabytes of pointer-rich records and indexes that all stay live, so
// collections during it mark the same growing heap again and again. At
// 1M records, GOGC=400 cut the CPU time of a load by about a quarter
// (see docs/ARCHITECTURE.md).
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

// Len returns the number of records.
func (e *Engine) Len() int { return e.ix.Len() }

// BuildTime returns how long building the indexes took.
func (e *Engine) BuildTime() time.Duration { return e.buildTime }

// IndexSizes returns the bytes held by each index, by name.
func (e *Engine) IndexSizes() map[string]uint64 { return e.ix.Sizes() }

// Records calls fn with every record in ascending bk_process_id order
// until fn returns false.
func (e *Engine) Records(fn func(*record.Record) bool) {
	perm := e.ix.Order(index.KeyProcessID).Perm
	// Perm is business-major; a global id order needs the id ranks.
	rows := make([]uint32, len(perm))
	rank := e.ix.Order(index.KeyProcessID).Rank
	for row, r := range rank {
		rows[r] = uint32(row)
	}
	for _, row := range rows {
		if !fn(e.ix.Record(row)) {
			return
		}
	}
}

// Result is the answer to a query: the number of matches and one page.
type Result struct {
	Count  uint64
	Rows   []*record.Record
	Fields record.FieldSet
}

// Query answers a request parsed by api.ParseRequest (validated, its
// expressions compiled). Its error is the context's error when ctx ends
// before the answer is ready; every long loop checks it.
func (e *Engine) Query(ctx context.Context, q *api.Query) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if q.Scope == nil && q.Expr != nil && q.Expr.Compiled == nil {
		return nil, ErrNotCompiled
	}
	res := &Result{Fields: q.Fields}
	dl := newDeadline(ctx)
	plan, err := e.plan(dl, q)
	if err != nil {
		return nil, err
	}
	bm := plan.execute()
	if err := dl.err(); err != nil {
		return nil, err
	}
	if plan.empty || bm == nil {
		return res, nil
	}
	res.Count = bm.GetCardinality()
	keys := make([]sortKey, 0, len(q.Ordering))
	for _, k := range q.Ordering {
		key, _ := index.KeyOf(k.Field) // api accepts only keys with an order
		keys = append(keys, sortKey{key: key, desc: k.Desc})
	}
	p := pager{ix: e.ix, dl: dl, keys: normalizeOrdering(keys)}
	rows := p.page(bm, res.Count, plan.span, q.Offset, q.Limit)
	if dl.expired() {
		return nil, ctx.Err()
	}
	res.Rows = make([]*record.Record, len(rows))
	for i, row := range rows {
		res.Rows[i] = e.ix.Record(row)
	}
	return res, nil
}

// Do answers a raw request body with the response envelope. The error is
// nil on success; an *api.Error when the envelope reports a validation or
// expression error; anything else (such as the context's error) is an
// unexpected failure, and the envelope then says so with result false.
func (e *Engine) Do(ctx context.Context, body []byte) ([]byte, error) {
	q, err := api.ParseRequest(body)
	if err == nil {
		var res *Result
		if res, err = e.Query(ctx, q); err == nil {
			// About a kilobyte a full record: one allocation, no regrowth.
			buf := make([]byte, 0, 256+1024*len(res.Rows))
			return api.AppendSuccess(buf, int(res.Count), res.Rows, res.Fields), nil
		}
	}
	var ae *api.Error
	if errors.As(err, &ae) {
		return api.AppendError(nil, ae), err
	}
	return api.AppendError(nil, &api.Error{Code: api.CodeInternal, Message: "internal error: " + err.Error()}), err
}
