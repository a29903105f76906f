package engine

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/procq/procq/expr"
	"github.com/procq/procq/index"
)

// filter records the step of one plan filter b (shared: read only): in
// the business's rows, out those of b among them. The expression_scope
// filter is followed by a step per expression field.
func (x *explainer) filter(kind string, b *roaring.Bitmap, terms []string, n int) {
	if x == nil {
		return
	}
	took := time.Since(x.last)
	if kind == "bk_biz_id" {
		x.biz = b
	}
	out := card(b)
	if b != nil && x.biz != nil {
		out = b.AndCardinality(x.biz)
	}
	x.record(took, kind, card(x.biz), out, terms, n)
	if b != nil && !b.IsEmpty() {
		x.kinds, x.outs = append(x.kinds, kind), append(x.outs, out)
	}
	if kind == "expression_scope" {
		x.exprFields()
	}
	x.mark()
}

// intersect records an intersection that added the plan's filters of
// the given indexes and left res. Its In and Out count rows within the
// business (the plan intersects smallest first, the business's filter
// not necessarily first): the first intersect's In is its first filter's
// rows there, a later one's the previous Out.
func (x *explainer) intersect(res *roaring.Bitmap, filters ...int) {
	if x == nil || len(filters) == 0 || filters[0] >= len(x.kinds) {
		return
	}
	took := time.Since(x.last)
	in := x.done
	if len(filters) > 1 {
		in = x.outs[filters[0]]
	}
	kinds := make([]string, 0, len(filters))
	for _, i := range filters {
		kinds = append(kinds, x.kinds[i])
	}
	x.done = res.GetCardinality()
	if x.biz != nil {
		x.done = res.AndCardinality(x.biz)
	}
	x.record(took, "intersect", in, x.done, kinds, len(kinds))
	x.mark()
}

// search records the search for t, which left res: its terms are the
// distinct IPs and cloud-area names of res that contain t.
func (x *explainer) search(t string, in uint64, res *roaring.Bitmap) {
	if x == nil {
		return
	}
	took := time.Since(x.last)
	var matched []string
	for _, d := range []*index.StrTerms{x.e.ix.InnerIP, x.e.ix.CloudName} {
		if !d.MayContain(t) {
			continue
		}
		cands, _ := d.Candidates(t) // nil: every term
		_, ids := rowTerms(res, d, cands, func(term string) bool { return strings.Contains(term, t) })
		for _, id := range ids {
			matched = append(matched, d.Term(id))
		}
	}
	slices.Sort(matched)
	x.record(took, "search", in, card(res), matched, len(matched))
	x.mark()
}

// exprFields records a step per field of the query's expression that is
// not `*`: the rows of the business and environment matching it alone,
// and the terms those rows hold. A bk_process_id slice has no step of
// its own: it counts among all the other fields' matches.
func (x *explainer) exprFields() {
	xs, ix := x.q.Expr, x.e.ix
	if xs == nil || xs.Compiled == nil || x.biz == nil {
		return
	}
	cand := x.biz
	if xs.Env != "0" {
		env := ix.Env.Get(xs.Env)
		if env == nil {
			env = roaring.New()
		}
		cand = roaring.And(cand, env)
	}
	c := xs.Compiled
	for _, f := range []struct {
		name string
		dict *index.StrTerms
		p    *expr.Pattern
	}{
		{"bk_set_name", ix.SetName, c.SetName}, {"bk_module_name", ix.ModuleName, c.ModuleName},
		{"service_instance_name", ix.ServiceName, c.ServiceInstanceName}, {"bk_process_name", ix.ProcessName, c.ProcessName},
	} {
		if f.p == nil || f.p.MatchesAll() {
			continue
		}
		x.mark()
		rows, terms, n := fieldMatches(cand, f.dict, f.p)
		x.step("expression_scope."+f.name, cand.GetCardinality(), rows, terms, n)
	}
	if c.ProcessID != nil && !c.ProcessID.MatchesAll() {
		x.mark()
		span, _ := ix.Biz(x.q.BizID)
		rows := roaring.And(cand, matchProcessIDs(nil, ix, span, c.ProcessID, cand))
		var first []string
		it := rows.Iterator()
		for len(first) < explainFirst && it.HasNext() {
			first = append(first, strconv.FormatInt(ix.ProcessID(it.Next()), 10))
		}
		x.step("expression_scope.bk_process_id", cand.GetCardinality(), rows.GetCardinality(), first, int(rows.GetCardinality()))
	}
}

// fieldMatches counts the rows of cand whose term in dict matches p, and
// lists the distinct terms they hold (n of them, the first few in term
// order).
func fieldMatches(cand *roaring.Bitmap, dict *index.StrTerms, p *expr.Pattern) (rows uint64, first []string, n int) {
	var ids []uint32
	if lits, ok := p.Literals(); ok {
		for _, l := range lits {
			if id, ok := dict.Lookup(l); ok {
				if c := dict.Rows(id).AndCardinality(cand); c > 0 {
					ids, rows = append(ids, id), rows+c
				}
			}
		}
	} else {
		rows, ids = rowTerms(cand, dict, nil, p.Match)
	}
	slices.Sort(ids)
	for _, id := range ids[:min(len(ids), explainFirst)] {
		first = append(first, dict.Term(id))
	}
	return rows, first, len(ids)
}

// rowTerms returns how many rows of cand hold a term of dict that match
// accepts, and those terms' ids, testing each term once: the terms
// themselves (terms, or every term when nil) when they are fewer than the
// rows (a term without rows in cand left out), else the rows' terms.
func rowTerms(cand *roaring.Bitmap, dict *index.StrTerms, terms []uint32, match func(string) bool) (rows uint64, ids []uint32) {
	n := len(terms)
	if terms == nil {
		n = dict.Len()
	}
	if uint64(n) < cand.GetCardinality() {
		for i := range n {
			id := uint32(i)
			if terms != nil {
				id = terms[i]
			}
			if !match(dict.Term(id)) {
				continue
			}
			if c := dict.Rows(id).AndCardinality(cand); c > 0 {
				ids, rows = append(ids, id), rows+c
			}
		}
		return rows, ids
	}
	const unknown, no, yes = 0, 1, 2
	memo := make([]uint8, dict.Len())
	rowTerm := dict.RowTerms()
	it := cand.ManyIterator()
	buf := make([]uint32, 256)
	for k := it.NextMany(buf); k > 0; k = it.NextMany(buf) {
		for _, row := range buf[:k] {
			id := rowTerm[row]
			if memo[id] == unknown {
				memo[id] = no
				if match(dict.Term(id)) {
					memo[id] = yes
					ids = append(ids, id)
				}
			}
			if memo[id] == yes {
				rows++
			}
		}
	}
	return rows, ids
}

// page records the page step: the ordering's keys and the pager's
// strategy how (with a delta, the base's window merged with the delta's
// matches).
func (x *explainer) page(res *Result, how string, merged bool) {
	if x == nil {
		return
	}
	switch {
	case merged:
		how = "merge"
	case how == "":
		how = "past_end" // the page starts after the last match
	}
	x.step("page", res.Count, uint64(len(res.page)), orderingTerms(x.q.Ordering), len(x.q.Ordering))
	x.x.Steps[len(x.x.Steps)-1].Strategy = how
}
