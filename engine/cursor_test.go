package engine

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"testing"

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
