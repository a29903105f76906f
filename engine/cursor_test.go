package engine

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/procq/procq/api"
	"github.com/procq/procq/internal/synth"
	"github.com/procq/procq/record"
)

type pageAnswer struct {
	Result bool   `json:"result"`
	Msg    string `json:"message"`
	Data   struct {
		Count uint64 `json:"count"`
		List  []struct {
			PID int64 `json:"bk_process_id"`
		} `json:"list"`
		Next string `json:"next"`
	} `json:"data"`
}

func askPage(t *testing.T, e *Engine, q map[string]any) (pageAnswer, bool) {
	t.Helper()
	body, _ := json.Marshal(q)
	out, err := e.Do(context.Background(), body)
	var a pageAnswer
	if jerr := json.Unmarshal(out, &a); jerr != nil {
		t.Fatalf("%s: %v", out, jerr)
	}
	return a, err == nil
}

// walk pages q by cursor on the engines next returns, one per page, and
// returns the ids in order.
func walk(t *testing.T, q map[string]any, next func() *Engine) []int64 {
	t.Helper()
	c := clone(q)
	delete(c, "page")
	c["after"] = ""
	var ids []int64
	for range 1000 {
		a, ok := askPage(t, next(), c)
		if !ok {
			t.Fatalf("cursor page: %s (request %v)", a.Msg, c)
		}
		for _, it := range a.Data.List {
			ids = append(ids, it.PID)
		}
		if a.Data.Next == "" {
			return ids
		}
		c["after"] = a.Data.Next
	}
	t.Fatal("the walk does not end")
	return nil
}

func clone(q map[string]any) map[string]any {
	c := make(map[string]any, len(q))
	for k, v := range q {
		c[k] = v
	}
	return c
}

// TestCursorWalkEqualsPageWalk: on unchanged data the cursor pages
// concatenated are the page/pagesize pages concatenated.
func TestCursorWalkEqualsPageWalk(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 5))
	recs := randomRecords(rng, 800)
	base, err := New(recs)
	if err != nil {
		t.Fatal(err)
	}
	e, err := base.WithChanges(randomRecords(rng, 30), []int64{recs[3].ProcessID})
	if err != nil {
		t.Fatal(err)
	}
	walked := 0
	for _, eng := range []*Engine{base, e} {
		for range 80 {
			q := randomRequest(rng, recs)
			q["fields"] = []string{"bk_process_id"}
			q["pagesize"] = []int{1, 7, 50}[rng.IntN(3)]
			var want []int64
			q["page"] = 1
			a, ok := askPage(t, eng, q)
			if !ok {
				continue
			}
			for p := 1; uint64(len(want)) < a.Data.Count; p++ {
				q["page"] = p
				b, _ := askPage(t, eng, q)
				for _, it := range b.Data.List {
					want = append(want, it.PID)
				}
			}
			got := walk(t, q, func() *Engine { return eng })
			if !slices.Equal(got, want) {
				t.Fatalf("request %v:\ncursor %v\npages  %v", q, got, want)
			}
			walked++
		}
	}
	if walked < 40 {
		t.Errorf("only %d walks", walked)
	}
}

// TestCursorWalkUnderWrites: status batches and upserts between pages
// never make a walk repeat a process or skip one that matched throughout.
func TestCursorWalkUnderWrites(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 6))
	recs := randomRecords(rng, 600)
	e, err := New(recs)
	if err != nil {
		t.Fatal(err)
	}
	for range 30 {
		q := randomRequest(rng, recs)
		q["fields"] = []string{"bk_process_id"}
		q["pagesize"] = 5
		if _, ok := askPage(t, e, q); !ok {
			continue
		}
		engines := []*Engine{e}
		cur := e
		next := func() *Engine {
			// A write before every page: a status batch or an upsert of
			// new processes (which never touch existing ones).
			if rng.IntN(2) == 0 {
				var ups []record.StatusUpdate
				for range 10 {
					r := recs[rng.IntN(len(recs))]
					ups = append(ups, record.StatusUpdate{ProcessID: r.ProcessID, ProcessStatus: int64(rng.IntN(3)), IsAuto: rng.IntN(2) == 0})
				}
				cur, _ = cur.WithStatus(ups)
			} else {
				var err error
				if cur, err = cur.WithChanges(randomRecords(rng, 3), nil); err != nil {
					t.Fatal(err)
				}
			}
			engines = append(engines, cur)
			return cur
		}
		got := walk(t, q, next)
		seen := map[int64]bool{}
		for _, pid := range got {
			if seen[pid] {
				t.Fatalf("request %v: process %d repeated", q, pid)
			}
			seen[pid] = true
		}
		// Processes in every engine's full answer matched throughout.
		all := clone(q)
		all["page"], all["pagesize"] = 1, 1000
		throughout := map[int64]int{}
		for _, en := range engines {
			a, _ := askPage(t, en, all)
			for _, it := range a.Data.List {
				throughout[it.PID]++
			}
		}
		for pid, n := range throughout {
			if n == len(engines) && !seen[pid] {
				t.Errorf("request %v: process %d matched throughout but was skipped", q, pid)
			}
		}
	}
}

// TestCursorSeekOnSynthData walks synth data, whose businesses span many
// blocks of each order, by cursor and by page in every ordering shape:
// unique and grouped first keys, ascending and descending, extra keys,
// dense and sparse results; the walks must agree.
func TestCursorSeekOnSynthData(t *testing.T) {
	recs, err := synth.Collect(synth.Options{Processes: 6000, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(recs)
	if err != nil {
		t.Fatal(err)
	}
	for _, ordering := range []string{"", "-bk_process_id", "id", "-bk_host_innerip", "bk_process_name", "-bk_process_name,bk_module_id", "bk_set_id,-bk_host_innerip", "-bk_module_id,-bk_process_id"} {
		for _, filter := range []map[string]any{
			{"scope": map[string]any{"bk_set_env": "0"}},
			{"scope": map[string]any{"bk_set_env": "3"}, "process_status": 1},
			{"scope": map[string]any{"bk_set_env": "0", "bk_process_names": []string{"gse_agent"}}},
		} {
			q := map[string]any{"bk_biz_id": 2, "fields": []string{"bk_process_id"}, "pagesize": 97}
			for k, v := range filter {
				q[k] = v
			}
			if ordering != "" {
				q["ordering"] = ordering
			}
			var want []int64
			for p := 1; ; p++ {
				q["page"] = p
				a, ok := askPage(t, e, q)
				if !ok {
					t.Fatalf("%v: %s", q, a.Msg)
				}
				for _, it := range a.Data.List {
					want = append(want, it.PID)
				}
				if uint64(len(want)) >= a.Data.Count {
					break
				}
			}
			if len(want) < 200 {
				t.Fatalf("%v: only %d matches", q, len(want))
			}
			if got := walk(t, q, func() *Engine { return e }); !slices.Equal(got, want) {
				t.Errorf("%v: cursor walk of %d differs from the page walk of %d", q, len(got), len(want))
			}
			// The cursor BenchmarkCursorDeep builds starts where its page does.
			c := clone(q)
			delete(c, "page")
			c["after"] = ""
			body, _ := json.Marshal(c)
			c["after"] = cursorAt(t, e, string(body), 2)
			if a, _ := askPage(t, e, c); len(a.Data.List) == 0 || a.Data.List[0].PID != want[97] {
				t.Errorf("%v: cursorAt page 2 starts at %+v, want %d", q, a.Data.List, want[97])
			}
		}
	}
}

// cursorAt returns the cursor that starts page `page` of body (a cursor
// request, "after" set) at the offset of that page in page/pagesize terms.
func cursorAt(tb testing.TB, e *Engine, body string, page int) string {
	q, err := api.ParseRequest([]byte(body))
	if err != nil {
		tb.Fatal(err)
	}
	paged := *q
	paged.Cursor, paged.Offset = false, uint64((page-1)*q.Limit-1)
	paged.Limit = 1
	res, err := e.Query(context.Background(), &paged)
	if err != nil || len(res.Rows) != 1 {
		tb.Fatalf("page %d: %v", page, err)
	}
	e.setNext(q, res)
	return res.Next
}

// BenchmarkCursorDeep answers page 1 and page 5000 (pagesize 50) of a
// whole-business request by cursor, and page 5000 by page/pagesize, in
// three orderings, on the bench engine (PROCQ_BENCH_PROCESSES processes).
func BenchmarkCursorDeep(b *testing.B) {
	e, err := benchEngine()
	if err != nil {
		b.Fatal(err)
	}
	for _, ordering := range []string{"bk_process_id", "-bk_host_innerip", "bk_process_name"} {
		req := `{"bk_biz_id":2,"scope":{"bk_set_env":"0"},"ordering":"` + ordering + `","fields":["bk_process_id"],"pagesize":50,`
		cur := req + `"after":""}`
		deep := cursorAt(b, e, cur, 5000)
		for _, bc := range []struct{ name, body string }{
			{"cursor_page1", cur},
			{"cursor_page5000", req + `"after":"` + deep + `"}`},
			{"page5000", req + `"page":5000}`},
		} {
			b.Run(ordering+"/"+bc.name, func(b *testing.B) {
				for b.Loop() {
					if _, err := e.Do(context.Background(), []byte(bc.body)); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
