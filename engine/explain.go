package engine

import (
	"context"
	"strconv"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/procq/procq/api"
	"github.com/procq/procq/record"
)

// explainFirst is how many matched terms a step lists.
const explainFirst = 5

// Step is one step of a query's execution, for explain.
type Step struct {
	// Kind names the step: "bk_biz_id", a filter ("scope.bk_set_ids",
	// "expression_scope", "bk_cloud_ids", "process_status" and the like),
	// an expression field ("expression_scope.bk_set_name"), "intersect",
	// "search", "delta", "facets" or "page".
	Kind string
	// In is the number of rows the step started from, Out the number it
	// left. A filter and an expression field start from the business's
	// rows (an expression field from those of its environment) and leave
	// those it keeps: the data.count of the request with that filter
	// alone. An intersect or search step leaves the data.count of the
	// request with the filters and searches applied so far.
	In, Out uint64
	// Terms is the number of terms (values) the step matched or looked
	// up, First the first few of them. An intersect step's terms are the
	// kinds of the filters it intersected.
	Terms int
	First []string
	// Strategy is how a page step found its rows: "walk" or
	// "walk_reverse" (the presorted order of the first key, from the near
	// or far end), "scan" (every result row ranked), "merge" (base and
	// delta merged) or "seek" (a cursor's position found in the order).
	Strategy string
	// Micros is the step's time in microseconds. An expression field is
	// evaluated again, alone, for explain: its time is that evaluation's;
	// the expression_scope step's is the query's.
	Micros int64
}

// Explain is how a query was answered: its steps in execution order and
// the data version it read.
type Explain struct {
	DataVersion uint64
	Steps       []Step
}

// explainer collects a query's steps; a nil *explainer records nothing.
type explainer struct {
	x    Explain
	last time.Time
	e    *Engine
	q    *api.Query
	// biz is the business's rows once its step is recorded.
	biz *roaring.Bitmap
	// kinds are the kinds of the plan's filters, in plan.filters' order,
	// and outs their rows within the business.
	kinds []string
	outs  []uint64
	// done is the Out of the last intersect step.
	done uint64
}

func newExplainer(e *Engine, q *api.Query) *explainer {
	return &explainer{x: Explain{DataVersion: e.version}, last: time.Now(), e: e, q: q}
}

// step records one step, timed from the end of the previous one.
func (x *explainer) step(kind string, in, out uint64, terms []string, n int) {
	if x == nil {
		return
	}
	x.record(time.Since(x.last), kind, in, out, terms, n)
	x.last = time.Now()
}

// record appends a step that took took.
func (x *explainer) record(took time.Duration, kind string, in, out uint64, terms []string, n int) {
	s := Step{Kind: kind, In: in, Out: out, Terms: n, Micros: took.Microseconds()}
	if len(terms) > explainFirst {
		terms = terms[:explainFirst]
	}
	s.First = append([]string(nil), terms...)
	x.x.Steps = append(x.x.Steps, s)
}

// mark restarts the clock of the next step.
func (x *explainer) mark() {
	if x != nil {
		x.last = time.Now()
	}
}

func card(b *roaring.Bitmap) uint64 {
	if b == nil {
		return 0
	}
	return b.GetCardinality()
}

func ints(vs []int64) []string {
	out := make([]string, 0, min(len(vs), explainFirst))
	for _, v := range vs[:min(len(vs), explainFirst)] {
		out = append(out, strconv.FormatInt(v, 10))
	}
	return out
}

func bools(vs []bool) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = strconv.FormatBool(v)
	}
	return out
}

// DoOptions asks Do for extensions that are not part of the request body.
type DoOptions struct {
	// Explain adds data.explain to a successful answer.
	Explain bool
	// Buf, when its capacity is enough, holds the answer (written from
	// Buf[:0], so the answer may share Buf's array): a caller that writes
	// each answer out and then reuses the buffer (a pool) spares a large
	// page's allocation and, more, the page faults of fresh memory.
	Buf []byte
}

// DoWith is Do with options; DoWith(ctx, body, DoOptions{}) is Do.
func (e *Engine) DoWith(ctx context.Context, body []byte, opts DoOptions) ([]byte, error) {
	q, err := api.ParseRequest(body)
	if err != nil {
		return e.doError(opts.Buf, err)
	}
	q.Explain = opts.Explain
	res, err := e.query(ctx, q)
	if err != nil {
		return e.doError(opts.Buf, err)
	}
	// About a kilobyte a full record: one allocation, no regrowth.
	buf := opts.Buf[:0]
	if need := 256 + 1024*len(res.page); cap(buf) < need {
		buf = make([]byte, 0, need)
	}
	buf = api.AppendSuccessItems(buf, int(res.Count), pageItems{e.ix, res.page}, res.Fields)
	if len(q.Facets) > 0 {
		buf = api.AppendFacets(buf, res.Facets)
	}
	if res.Next != "" {
		buf = append(buf[:len(buf)-2], `,"next":`...)
		buf = append(record.AppendString(buf, res.Next), "}}"...)
	}
	if res.Explain != nil {
		buf = appendExplain(buf, res.Explain)
	}
	return buf, nil
}

// appendExplain appends the member "explain" to the data object of the
// success envelope b (which ends with "}}").
func appendExplain(b []byte, x *Explain) []byte {
	b = append(b[:len(b)-2], `,"explain":{"data_version":`...)
	b = strconv.AppendUint(b, x.DataVersion, 10)
	b = append(b, `,"steps":[`...)
	for i, s := range x.Steps {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"kind":`...)
		b = record.AppendString(b, s.Kind)
		b = append(b, `,"in":`...)
		b = strconv.AppendUint(b, s.In, 10)
		b = append(b, `,"out":`...)
		b = strconv.AppendUint(b, s.Out, 10)
		if s.Terms > 0 {
			b = append(b, `,"terms":{"count":`...)
			b = strconv.AppendInt(b, int64(s.Terms), 10)
			b = append(b, `,"first":[`...)
			for j, t := range s.First {
				if j > 0 {
					b = append(b, ',')
				}
				b = record.AppendString(b, t)
			}
			b = append(b, "]}"...)
		}
		if s.Strategy != "" {
			b = append(b, `,"strategy":`...)
			b = record.AppendString(b, s.Strategy)
		}
		b = append(b, `,"us":`...)
		b = strconv.AppendInt(b, s.Micros, 10)
		b = append(b, '}')
	}
	return append(b, "]}}}"...)
}

// orderingTerms is the ordering keys as written.
func orderingTerms(keys []api.OrderKey) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.Field.String()
		if k.Desc {
			out[i] = "-" + out[i]
		}
	}
	return out
}
