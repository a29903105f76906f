package engine

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/procq/procq/api"
	"github.com/procq/procq/index"
)

// checkEvery is how many iterations a long loop runs between two looks
// at its deadline: a look costs about as much as a few dozen iterations.
const checkEvery = 4096

// deadline lets every long loop of a query stop once the query's context
// ends: the loop calls expired every checkEvery iterations (or once per
// batch) and breaks; Query then answers the context's error, never the
// partial result. Safe for concurrent use; a nil *deadline never expires.
type deadline struct {
	ctx  context.Context
	stop atomic.Bool
}

func newDeadline(ctx context.Context) *deadline { return &deadline{ctx: ctx} }

// expired reports whether the context has ended.
func (d *deadline) expired() bool {
	if d == nil {
		return false
	}
	if d.stop.Load() {
		return true
	}
	if d.ctx.Err() != nil {
		d.stop.Store(true)
		return true
	}
	return false
}

// err is the context's error once expired, else nil.
func (d *deadline) err() error {
	if d == nil || !d.stop.Load() {
		return nil
	}
	return d.ctx.Err()
}

// plan is one query's filters: bitmaps to intersect, then search terms to
// test against the intersection.
type plan struct {
	ix   *index.Index
	dl   *deadline
	span index.Span
	// empty is set once some filter is known to match nothing.
	empty bool
	// filters are ANDed; they may be shared index bitmaps: read only.
	filters  []*roaring.Bitmap
	searches []string
	// x records the steps when the query is explained; nil otherwise.
	x *explainer
}

// add records one filter, the terms of kind it looked up (n of them,
// the first few in terms); nil or empty makes the whole answer empty.
func (p *plan) add(kind string, b *roaring.Bitmap, terms []string, n int) {
	p.x.filter(kind, b, terms, n)
	if b == nil || b.IsEmpty() {
		p.empty = true
		return
	}
	p.filters = append(p.filters, b)
}

// plan turns the request into filters over the base. ds, the delta's
// side of the query, is nil when the engine has no delta; an expression's
// slice, which counts base and delta candidates together, fills it in.
func (e *Engine) plan(dl *deadline, q *api.Query, ds *deltaSide, x *explainer) (*plan, error) {
	ix := e.ix
	p := &plan{ix: ix, dl: dl, searches: q.Searches, x: x}
	span, ok := ix.Biz(q.BizID)
	if !ok {
		p.empty = true
		x.step("bk_biz_id", 0, 0, []string{strconv.FormatInt(q.BizID, 10)}, 1)
		if q.Scope == nil && q.Expr != nil && q.Expr.Compiled.Slice != nil && ds != nil {
			e.slice(dl, q.Expr.Compiled.Slice, nil, span, ds)
		}
		return p, nil
	}
	p.span = span
	bizRows := ix.BizRows(q.BizID)
	p.add("bk_biz_id", bizRows, []string{strconv.FormatInt(q.BizID, 10)}, 1)
	if s := q.Scope; s != nil {
		if s.Env != "0" {
			p.add("scope.bk_set_env", ix.Env.Get(s.Env), []string{s.Env}, 1)
		}
		if len(s.SetIDs) > 0 {
			p.add("scope.bk_set_ids", ix.SetID.Union(s.SetIDs), ints(s.SetIDs), len(s.SetIDs))
		}
		if len(s.ModuleIDs) > 0 {
			p.add("scope.bk_module_ids", ix.ModuleID.Union(s.ModuleIDs), ints(s.ModuleIDs), len(s.ModuleIDs))
		}
		if len(s.ServiceIDs) > 0 {
			p.add("scope.bk_service_ids", ix.ServiceInstanceID.Union(s.ServiceIDs), ints(s.ServiceIDs), len(s.ServiceIDs))
		}
		if len(s.ProcessNames) > 0 {
			p.add("scope.bk_process_names", ix.ProcessName.Union(s.ProcessNames), s.ProcessNames, len(s.ProcessNames))
		}
		if len(s.ProcessIDs) > 0 {
			b := roaring.New()
			for i, pid := range s.ProcessIDs {
				if i%checkEvery == 0 && dl.expired() {
					break
				}
				if row, ok := ix.RowOfProcess(pid); ok {
					b.Add(row)
				}
			}
			p.add("scope.bk_process_ids", b, ints(s.ProcessIDs), len(s.ProcessIDs))
		}
	} else if q.Expr != nil {
		cand := evalExpr(dl, q.Expr, ix, span, bizRows, e.terms)
		if sl := q.Expr.Compiled.Slice; sl != nil {
			cand = e.slice(dl, sl, cand, span, ds)
		}
		p.add("expression_scope", cand, nil, 0)
	}
	if len(q.CloudIDs) > 0 {
		p.add("bk_cloud_ids", ix.CloudID.Union(q.CloudIDs), ints(q.CloudIDs), len(q.CloudIDs))
	}
	if len(q.InnerIPs) > 0 {
		p.add("bk_host_innerips", ix.InnerIP.Union(q.InnerIPs), q.InnerIPs, len(q.InnerIPs))
	}
	if q.Status != nil {
		p.add("process_status", ix.Status.Union(q.Status), ints(q.Status), 1)
	}
	if len(q.StatusList) > 0 {
		p.add("process_status_list", ix.Status.Union(q.StatusList), ints(q.StatusList), len(q.StatusList))
	}
	if q.IsAuto != nil {
		p.add("is_auto", ix.IsAuto.Union(boolTerms(q.IsAuto)), bools(q.IsAuto), 1)
	}
	if len(q.IsAutoList) > 0 {
		p.add("is_auto_list", ix.IsAuto.Union(boolTerms(q.IsAutoList)), bools(q.IsAutoList), len(q.IsAutoList))
	}
	return p, nil
}

func boolTerms(bs []bool) []int64 {
	out := make([]int64, len(bs))
	for i, b := range bs {
		if b {
			out[i] = 1
		}
	}
	return out
}

// execute intersects the filters, smallest first, stopping at empty, then
// applies the searches. It returns nil for an empty answer. The result
// may be a shared index bitmap: read only.
func (p *plan) execute() *roaring.Bitmap {
	if p.empty || len(p.filters) == 0 {
		return nil
	}
	fs := p.filters
	cards := make([]uint64, len(fs))
	for i, f := range fs {
		cards[i] = f.GetCardinality()
	}
	order := make([]int, len(fs))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(cards[a], cards[b]) })
	res := fs[order[0]]
	p.x.mark()
	if len(order) > 1 {
		res = roaring.And(res, fs[order[1]])
		p.x.intersect(res, order[0], order[1])
		for _, i := range order[2:] {
			if res.IsEmpty() {
				return nil
			}
			res.And(fs[i])
			p.x.intersect(res, i)
		}
	}
	for _, t := range p.searches {
		if res.IsEmpty() || p.dl.expired() {
			return nil
		}
		in := card(res)
		res = p.search(t, res)
		p.x.search(t, in, res)
	}
	if res.IsEmpty() {
		return nil
	}
	return res
}

// search returns the rows of within whose IP or cloud-area name contains
// term. It tests the candidate terms of the dictionaries (all of them, or
// for a term of three bytes or more those the trigram index leaves) or the
// rows themselves, whichever are fewer.
func (p *plan) search(term string, within *roaring.Bitmap) *roaring.Bitmap {
	ips, clouds := p.ix.InnerIP, p.ix.CloudName
	dicts := []*index.StrTerms{ips, clouds}
	narrowed := make([]bool, len(dicts))
	total := 0
	for i, d := range dicts {
		if !d.MayContain(term) {
			continue
		}
		n, ok := d.CandidateCount(term)
		if !ok {
			n = d.Len()
		}
		narrowed[i] = ok
		total += n
	}
	if within.GetCardinality() < uint64(total) {
		ipm, cloudm := newMemo(ips), newMemo(clouds)
		return filterRows(p.dl, within, func(row uint32) bool {
			return ipm.contains(row, term) || cloudm.contains(row, term)
		})
	}
	sets := make([]*termSet, len(dicts))
	for i, d := range dicts {
		sets[i] = &termSet{dict: d}
		if !d.MayContain(term) {
			continue
		}
		test := func(id uint32) {
			if strings.Contains(d.Term(id), term) {
				sets[i].ids = append(sets[i].ids, id)
			}
		}
		if bits, ok := d.ContainingBits(term); ok {
			// A bitset the dictionary keeps: "10." is most addresses,
			// and its list would be 100k ids to decode at 1M.
			sets[i].setBits(bits)
			continue
		}
		if ids, exact, ok := d.Containing(term); exact {
			// Exactly the terms holding it (a trigram's): no test.
			sets[i].ids = ids
			continue
		} else if ok {
			for k, id := range ids {
				if k%checkEvery == 0 && p.dl.expired() {
					break
				}
				test(id)
			}
			continue
		}
		for id := range uint32(d.Len()) {
			if id%checkEvery == 0 && p.dl.expired() {
				break
			}
			test(id)
		}
	}
	return rowsWithin(p.dl, within, sets...)
}
