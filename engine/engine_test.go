package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/procq/procq/expr"
	"github.com/procq/procq/index"
	"github.com/procq/procq/record"
)

// TestErrorPrecedence checks SPEC 10: validation first, then expression
// syntax in any field whatever the data, then the slice; scope wins.
func TestErrorPrecedence(t *testing.T) {
	e, err := New(loadFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		body string
		code int
	}{
		{"slice then unclosed bracket", `{"bk_biz_id":3,"page":1,"pagesize":5,"expression_scope":{"bk_set_env":"0","bk_process_id":"[0:3][1:"}}`, 4111001},
		{"syntax elsewhere beats slice", `{"bk_biz_id":3,"page":1,"pagesize":5,"expression_scope":{"bk_set_env":"0","bk_set_name":"[a","bk_process_id":"[0:3]x"}}`, 4111001},
		{"text after slice", `{"bk_biz_id":3,"page":1,"pagesize":5,"expression_scope":{"bk_set_env":"0","bk_process_id":"[0:3]x"}}`, 4111003},
		{"slice bound beyond int64", `{"bk_biz_id":3,"page":1,"pagesize":5,"expression_scope":{"bk_set_env":"0","bk_process_id":"[99999999999999999999:]"}}`, 4111003},
		{"near-slice is a word", `{"bk_biz_id":3,"page":1,"pagesize":5,"expression_scope":{"bk_set_env":"0","bk_process_id":"[1:2:3]"}}`, 0},
		{"unknown business still checks syntax", `{"bk_biz_id":424242,"page":1,"pagesize":5,"expression_scope":{"bk_set_env":"0","bk_module_name":"x[1"}}`, 4111001},
		{"validation before syntax", `{"bk_biz_id":3,"page":0,"pagesize":5,"expression_scope":{"bk_set_env":"0","bk_module_name":"x[1"}}`, 4100001},
		{"scope wins over a broken expression_scope", `{"bk_biz_id":3,"page":1,"pagesize":5,"scope":{},"expression_scope":{"bk_process_id":"[0:3]x","bk_set_name":"["}}`, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, _ := e.Do(context.Background(), []byte(tc.body))
			var env struct {
				Result  bool   `json:"result"`
				Code    int    `json:"code"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(out, &env); err != nil {
				t.Fatal(err)
			}
			if env.Code != tc.code || env.Result != (tc.code == 0) || (tc.code != 0 && env.Message == "") {
				t.Fatalf("got %s, want code %d", out, tc.code)
			}
		})
	}
}

func TestLoadGCRestoresPercent(t *testing.T) {
	prev := debug.SetGCPercent(123)
	defer debug.SetGCPercent(prev)
	outer := loadGC()
	inner := loadGC()
	if got := debug.SetGCPercent(loadGCPercent); got != loadGCPercent {
		t.Errorf("during loads GC percent is %d, want %d", got, loadGCPercent)
	}
	inner()
	if got := debug.SetGCPercent(loadGCPercent); got != loadGCPercent {
		t.Errorf("with one load left GC percent is %d, want %d", got, loadGCPercent)
	}
	outer()
	if got := debug.SetGCPercent(123); got != 123 {
		t.Errorf("after the loads GC percent is %d, want 123", got)
	}
	debug.SetGCPercent(-1)
	loadGC()()
	if got := debug.SetGCPercent(123); got != -1 {
		t.Errorf("a load turned the GC on: percent %d after, want -1", got)
	}
}

// TestConcurrentQueries runs random requests from many goroutines at once
// on one engine; each answer must equal the one given alone.
func TestConcurrentQueries(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	recs := randomRecords(rng, 2000)
	e, err := New(slices.Clone(recs))
	if err != nil {
		t.Fatal(err)
	}
	bodies := make([][]byte, 200)
	want := make([][]byte, len(bodies))
	for i := range bodies {
		bodies[i], _ = json.Marshal(randomRequest(rng, recs))
		want[i], _ = e.Do(context.Background(), bodies[i])
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range bodies {
				k := (i*7 + g*13) % len(bodies)
				if got, _ := e.Do(context.Background(), bodies[k]); !bytes.Equal(got, want[k]) {
					t.Errorf("request %d answered differently under concurrency", k)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestNewRejectsDuplicateProcess(t *testing.T) {
	recs := loadFixture(t)
	dup := *recs[7]
	dup.BizID = 99999 // another business, another row: still the same process
	_, err := New(append(recs, &dup))
	if !errors.Is(err, ErrDuplicateProcess) {
		t.Fatalf("New with a repeated bk_process_id: err %v, want ErrDuplicateProcess", err)
	}
}

// TestMatchingTermsParallel checks the split dictionary scan against a
// plain loop on a dictionary big enough to be split.
func TestMatchingTermsParallel(t *testing.T) {
	recs := make([]*record.Record, 0, parallelTerms+5000)
	for i := range cap(recs) {
		recs = append(recs, &record.Record{BizID: 1, ProcessID: int64(i + 1), SetEnv: "3",
			ServiceName: fmt.Sprintf("10.%d.%d.%d_svc%d", i%7, i%251, i%13, i%5)})
	}
	ix := index.Build(recs)
	p, err := expr.Parse("10.[1-3].*[!0]_svc[2, 4]")
	if err != nil {
		t.Fatal(err)
	}
	d := ix.ServiceName
	var want []uint32
	for id := range uint32(d.Len()) {
		if p.Match(d.Term(id)) {
			want = append(want, id)
		}
	}
	got := matchingTerms(nil, d, p, d.Len(), func(i int) uint32 { return uint32(i) })
	if d.Len() < parallelTerms || len(want) == 0 || !slices.Equal(got, want) {
		t.Fatalf("%d terms: got %d matches, want %d", d.Len(), len(got), len(want))
	}
}

func TestTermCacheBounds(t *testing.T) {
	c := newTermCache()
	d1, d2 := &index.StrTerms{}, &index.StrTerms{}
	big := make([]uint32, termCacheBytes/16-termEntryOverhead) // a quarter of the bound, with its key
	c.put(termKey{d1, "a*"}, big[:len(big)-1])
	c.put(termKey{d2, "a*"}, []uint32{1, 2})
	if ids, ok := c.get(termKey{d2, "a*"}); !ok || len(ids) != 2 {
		t.Fatal("entry of another dictionary lost or mixed up")
	}
	for i := range 4 {
		c.put(termKey{d1, fmt.Sprint(i)}, big[:len(big)-1])
	}
	if _, ok := c.get(termKey{d1, "a*"}); ok {
		t.Error("the oldest entry survived past the bound")
	}
	if s := c.stats(); s.Bytes > termCacheBytes || s.Evictions == 0 {
		t.Errorf("cache stats %+v, bound %d", s, termCacheBytes)
	}
	c.put(termKey{d1, "huge"}, make([]uint32, termCacheBytes/16+1))
	if _, ok := c.get(termKey{d1, "huge"}); ok {
		t.Error("an oversized entry was cached")
	}
}

// TestTermCacheCountsKeys checks issue 15's case: 1,000 unique 1 MB
// patterns that match nothing must not grow the cache past its bound; the
// key is what they cost.
func TestTermCacheCountsKeys(t *testing.T) {
	const limit = 8 << 20
	c := newTermCacheLimit(limit)
	d := &index.StrTerms{}
	key := []byte(strings.Repeat("x", 1<<20))
	for i := range 1000 {
		copy(key, fmt.Sprintf("%08d", i))
		c.put(termKey{d, string(key)}, nil)
		if s := c.stats(); s.Bytes > limit {
			t.Fatalf("after %d inserts: %d bytes, limit %d", i+1, s.Bytes, limit)
		}
	}
	s := c.stats()
	var held int
	for k, ids := range c.m {
		held += len(k.pattern) + 4*len(ids)
	}
	if held > limit || s.Entries != len(c.m) || s.Entries == 0 || s.Evictions != uint64(1000-s.Entries) {
		t.Errorf("stats %+v; %d bytes of keys and ids held", s, held)
	}
	// The default bound, through the engine's method.
	e, err := New([]*record.Record{{BizID: 1, ProcessID: 1, SetEnv: "3"}})
	if err != nil {
		t.Fatal(err)
	}
	if st := e.CacheStats(); st.Limit != termCacheBytes || st.Entries != 0 {
		t.Errorf("new engine cache %+v", st)
	}
}

// TestDoWithBuf: an answer written into a caller's buffer is the answer
// Do gives, in that buffer's array when it has room, for answers and
// errors alike.
func TestDoWithBuf(t *testing.T) {
	e, err := New(loadFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	buf := make([]byte, 0, 1<<20)
	for i, req := range readLines(t, "../testdata/requests.jsonl") {
		want, werr := e.Do(ctx, req)
		got, gerr := e.DoWith(ctx, req, DoOptions{Buf: buf[:7]})
		if !bytes.Equal(got, want) || (werr == nil) != (gerr == nil) {
			t.Fatalf("request %d: DoWith with a buffer gave %.300s (%v), Do %.300s (%v)", i+1, got, gerr, want, werr)
		}
		if len(got) > 0 && &got[0] != &buf[:1][0] {
			t.Fatalf("request %d: the answer of %d bytes is not in the 1 MiB buffer given", i+1, len(got))
		}
	}
	small := make([]byte, 0, 16)
	got, err := e.DoWith(ctx, []byte(`{"bk_biz_id":2,"scope":{"bk_set_env":"3"},"page":1,"pagesize":50}`), DoOptions{Buf: small})
	if err != nil || len(got) <= cap(small) {
		t.Fatalf("a buffer too small: %d bytes, %v", len(got), err)
	}
}
