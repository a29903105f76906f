package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/procq/procq/api"
	"github.com/procq/procq/expr"
	"github.com/procq/procq/index"
	"github.com/procq/procq/internal/synth"
	"github.com/procq/procq/record"
)

// The hostile-input suite of issue 15: each class of request cost with
// several shapes, asserting the bound (an error naming the limit, a
// deduplicated list, a deadline hit after a bounded number of checks,
// cache bytes), never a wall time.

// hostileEngine is a synthetic data set shared by the suite.
var hostileEngine = sync.OnceValues(func() (*Engine, error) {
	recs, err := synth.Collect(synth.Options{Processes: 5000, Seed: 3})
	if err != nil {
		return nil, err
	}
	return New(recs)
})

func hostile(t *testing.T) *Engine {
	t.Helper()
	e, err := hostileEngine()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// exprBody is a request on business 2 with one expression field set.
func exprBody(field, pattern string) string {
	p, _ := json.Marshal(pattern)
	return `{"bk_biz_id":2,"page":1,"pagesize":10,"expression_scope":{"bk_set_env":"0","` + field + `":` + string(p) + `}}`
}

// nameFields are the expression fields matched against dictionaries.
var nameFields = []string{"bk_set_name", "bk_module_name", "service_instance_name", "bk_process_name", "bk_process_id"}

// TestHostileExpressions: a long, bracket-heavy or wildcard-heavy pattern
// in any field either answers or fails at once with a 4111001 naming the
// element limit; none reaches the matcher with more than expr.MaxElements
// elements.
func TestHostileExpressions(t *testing.T) {
	e := hostile(t)
	limited := []string{
		strings.Repeat("[,!x]", 1000),           // issue 15: 5 KB
		strings.Repeat("[,0-9]", 30000),         // issue 15: 180 KB
		strings.Repeat("*?", 50000),             // 100 KB of wildcards
		strings.Repeat("[a,b,c]", 100),          // lists
		"[" + strings.Repeat("x?,", 100) + "y]", // one list, repeated alternatives
		strings.Repeat("[!a-z]", expr.MaxElements+1),
	}
	answered := []string{
		strings.Repeat("[,!x]", expr.MaxElements/2),
		strings.Repeat("[,0-9]", expr.MaxElements/2),
		strings.Repeat("*?", expr.MaxElements/2),
		"[1-" + strings.Repeat("9", 5000) + "]",                 // a huge range
		"[" + strings.Repeat("0", 5000) + "1-2]*",               // leading zeros
		"*" + strings.Repeat("x", 100000) + "*",                 // one long word
		strings.Repeat("[1-99999999999999999999]", 60),          // ranges beyond int64
		strings.Repeat("[,!\u4e00-\u9fff]", expr.MaxElements/2), // never saturates on Chinese names
	}
	for _, f := range nameFields {
		for i, p := range limited {
			if i == 4 {
				continue // accepted after dropping repeats; checked below
			}
			t.Run(fmt.Sprintf("%s/limited%d", f, i), func(t *testing.T) {
				_, err := api.ParseRequest([]byte(exprBody(f, p)))
				var ae *api.Error
				if !errors.As(err, &ae) || ae.Code != api.CodeExprSyntax ||
					!strings.Contains(ae.Message, "expression_scope."+f) || !strings.Contains(ae.Message, "limit of 256") {
					t.Fatalf("got %v, want a 4111001 naming the field and the limit", err)
				}
			})
		}
		for i, p := range append(answered, limited[4]) {
			t.Run(fmt.Sprintf("%s/answered%d", f, i), func(t *testing.T) {
				out, err := e.Do(context.Background(), []byte(exprBody(f, p)))
				if err != nil {
					t.Fatalf("%v: %.200s", err, out)
				}
			})
		}
	}
}

// TestHostileLists: lists are deduplicated on parse, so their cost is that
// of their distinct values.
func TestHostileLists(t *testing.T) {
	e := hostile(t)
	many := func(item string, n int) string { return "[" + strings.Repeat(item+",", n-1) + item + "]" }
	cases := []struct {
		name, members string
		distinct      func(*api.Query) int
		want          int
	}{
		{"status 100k × 1", `"process_status_list":` + many("1", 100000), func(q *api.Query) int { return len(q.StatusList) }, 1},
		{"status forms", `"process_status_list":` + many(`"1",1,"01",2,0`, 20000), func(q *api.Query) int { return len(q.StatusList) }, 3},
		{"searches 10k × 1", `"searches":` + many(`"1"`, 10000), func(q *api.Query) int { return len(q.Searches) }, 1},
		{"searches padded", `"searches":` + many(`" 1 "," 1","1 "`, 5000), func(q *api.Query) int { return len(q.Searches) }, 1},
		{"cloud ids", `"bk_cloud_ids":` + many("0", 100000), func(q *api.Query) int { return len(q.CloudIDs) }, 1},
		{"ips", `"bk_host_innerips":` + many(`"10.0.0.1"`, 50000), func(q *api.Query) int { return len(q.InnerIPs) }, 1},
		{"is_auto_list", `"is_auto_list":` + many("true,false", 50000), func(q *api.Query) int { return len(q.IsAutoList) }, 2},
		{"scope ids", `"scope":{"bk_set_env":"0","bk_process_ids":` + many("7", 100000) + `,"bk_set_ids":` + many("1", 100000) + `}`,
			func(q *api.Query) int { return len(q.Scope.ProcessIDs) + len(q.Scope.SetIDs) }, 2},
		{"scope names", `"scope":{"bk_set_env":"0","bk_process_names":` + many(`"p"`, 100000) + `}`, func(q *api.Query) int { return len(q.Scope.ProcessNames) }, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := `{"bk_biz_id":2,"page":1,"pagesize":10,"scope":{"bk_set_env":"0"},` + c.members + `}`
			q, err := api.ParseRequest([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			if got := c.distinct(q); got != c.want {
				t.Fatalf("%d values kept, want %d", got, c.want)
			}
			if _, err := e.Query(context.Background(), q); err != nil {
				t.Fatal(err)
			}
		})
	}
	// Many unique searches: all must match, so the answer empties early.
	var terms []string
	for i := range 10000 {
		terms = append(terms, fmt.Sprintf("%q", fmt.Sprint(i%256, ".", i/256)))
	}
	body := `{"bk_biz_id":2,"page":1,"pagesize":10,"scope":{"bk_set_env":"0"},"searches":[` + strings.Join(terms, ",") + `]}`
	if _, err := e.Do(context.Background(), []byte(body)); err != nil {
		t.Fatal(err)
	}
}

// countingCtx is a context whose Err reports Canceled from its after+1-th
// call on; calls counts them.
type countingCtx struct {
	context.Context
	after int64
	calls atomic.Int64
}

func (c *countingCtx) Err() error {
	if c.calls.Add(1) > c.after {
		return context.Canceled
	}
	return nil
}

// TestDeadlineInQueries cancels each request after its k-th look at the
// context, for every k up to the number of looks an uncancelled run takes:
// each must end with context.Canceled after at most a few more looks (a
// loop that kept going would look again every checkEvery iterations), or
// answer in full when the cancellation comes after its last look.
func TestDeadlineInQueries(t *testing.T) {
	e := hostile(t)
	bodies := []string{
		exprBody("service_instance_name", strings.Repeat("[,!x]", 100)+"*1*"),
		exprBody("bk_process_name", "*[!z]?*"),
		exprBody("bk_process_id", "[0:100000]"),
		exprBody("bk_process_id", "*1*"),
		`{"bk_biz_id":2,"page":1,"pagesize":10,"scope":{"bk_set_env":"0"},"searches":["1","0","."],"ordering":"bk_process_name,-bk_host_innerip"}`,
		`{"bk_biz_id":2,"page":3,"pagesize":1000,"scope":{"bk_set_env":"0"},"ordering":"-bk_module_id,bk_process_name"}`,
		`{"bk_biz_id":2,"page":1,"pagesize":10,"scope":{"bk_set_env":"0","bk_process_ids":[` + ids(20000) + `]}}`,
	}
	for i, body := range bodies {
		q, err := api.ParseRequest([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		full := &countingCtx{Context: context.Background(), after: 1 << 62}
		want, err := e.Query(full, q)
		if err != nil {
			t.Fatal(err)
		}
		looks := full.calls.Load()
		if looks < 2 {
			t.Errorf("request %d: the context was looked at %d times", i, looks)
		}
		for k := int64(0); k < looks; k++ {
			ctx := &countingCtx{Context: context.Background(), after: k}
			res, err := e.Query(ctx, q)
			switch {
			case errors.Is(err, context.Canceled):
				if extra := ctx.calls.Load() - k; extra > 4 {
					t.Errorf("request %d cancelled at look %d: %d more looks", i, k, extra)
				}
			case err != nil:
				t.Fatalf("request %d cancelled at look %d: %v", i, k, err)
			case res.Count != want.Count:
				t.Errorf("request %d cancelled at look %d: count %d, want %d", i, k, res.Count, want.Count)
			}
		}
	}
}

func ids(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprint(&b, i+1)
	}
	return b.String()
}

// cancelled is a deadline that has already expired.
func cancelled() *deadline {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return newDeadline(ctx)
}

// TestDeadlineInLoops drives each long loop with a deadline that has
// already expired and counts the iterations it still runs.
func TestDeadlineInLoops(t *testing.T) {
	e := hostile(t)
	ix := e.ix
	all := roaring.New()
	all.AddRange(0, uint64(ix.Len()))

	calls := 0
	filterRows(cancelled(), all, func(uint32) bool { calls++; return true })
	if calls != 0 {
		t.Errorf("filterRows tested %d rows after the deadline", calls)
	}
	if got := filterRows(nil, all, func(uint32) bool { return true }); got.GetCardinality() != uint64(ix.Len()) {
		t.Errorf("filterRows without deadline kept %d rows", got.GetCardinality())
	}

	p, err := expr.Parse("*[!x]*")
	if err != nil {
		t.Fatal(err)
	}
	d := ix.ServiceName
	tested := 0
	got := matchingTerms(cancelled(), d, p, d.Len(), func(i int) uint32 { tested++; return uint32(i) })
	if tested != 0 || len(got) != 0 {
		t.Errorf("matchingTerms tested %d terms after the deadline", tested)
	}

	pl := &plan{ix: ix, dl: cancelled()}
	if got := pl.search("1", all); got.GetCardinality() != 0 {
		t.Errorf("search kept %d rows after the deadline", got.GetCardinality())
	}

	keys := normalizeOrdering([]sortKey{{key: index.KeyProcessName}})
	pg := &pager{ix: ix, dl: cancelled(), keys: keys}
	rows := make([]uint32, ix.Len())
	for i := range rows {
		rows[i] = uint32(i)
	}
	if got := pg.topK(rows, 0, 10); got != nil {
		t.Errorf("topK answered %d rows after the deadline", len(got))
	}
	compared := 0
	cmp := pg.interruptible()
	for range 3 * checkEvery {
		if cmp(0, 1) != 0 {
			compared++
		}
	}
	if compared >= checkEvery {
		t.Errorf("the sort compared %d pairs after the deadline", compared)
	}
	if got, ok := pg.walk(all, index.Span{Lo: 0, Hi: uint32(ix.Len())}, 0, 10, false, 1<<30); !ok || got != nil {
		t.Errorf("walk answered %d rows after the deadline", len(got))
	}
}

// TestHostileCache: many unique, long patterns that match nothing leave
// the term cache within its byte bound, keys counted.
func TestHostileCache(t *testing.T) {
	// Each name on two rows: the rows outnumber the terms, so a pattern
	// is tested on the whole dictionary (of parallelTerms terms), and cached.
	const names = parallelTerms + 100
	recs := make([]*record.Record, 0, 2*names)
	for i := range cap(recs) {
		recs = append(recs, &record.Record{BizID: 1, ProcessID: int64(i + 1), SetEnv: "3",
			ServiceName: fmt.Sprintf("10.0.%d_svc", i%names)})
	}
	e, err := New(recs)
	if err != nil {
		t.Fatal(err)
	}
	// No literal piece of three bytes: the trigram index cannot narrow
	// these, so each is tested on the whole dictionary.
	long := strings.Repeat("y", 256<<10)
	for i := range 200 {
		body := `{"bk_biz_id":1,"page":1,"pagesize":10,"expression_scope":{"bk_set_env":"3","service_instance_name":"*zz[!` +
			long + fmt.Sprint(i) + `]*"}}`
		if _, err := e.Do(context.Background(), []byte(body)); err != nil {
			t.Fatal(err)
		}
		if s := e.CacheStats(); s.Bytes > s.Limit {
			t.Fatalf("after %d requests: %+v", i+1, s)
		}
	}
	s := e.CacheStats()
	if s.Entries == 0 || s.Evictions == 0 || s.Bytes < uint64(s.Entries)*(256<<10) {
		t.Errorf("cache %+v: the patterns were not cached, or their keys not counted", s)
	}
}
