package engine

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/procq/procq/record"
)

// TestDifferentialOrderings asks every two-key ordering of the six sort
// keys, in both directions each, for the first page, a middle one, the
// last and the one past it, and compares with fullScan.
func TestDifferentialOrderings(t *testing.T) {
	for seed := range uint64(2 * *diffScale) {
		rng := rand.New(rand.NewPCG(seed, 11))
		recs := randomRecords(rng, []int{3000, 700}[seed%2])
		oracleRecs := slices.Clone(recs)
		e, err := New(recs)
		if err != nil {
			t.Fatal(err)
		}
		for _, k1 := range orderingKeys {
			for _, k2 := range orderingKeys {
				for dir := range 4 {
					a, b := k1, k2
					if dir&1 != 0 {
						a = "-" + a
					}
					if dir&2 != 0 {
						b = "-" + b
					}
					checkPages(t, e, oracleRecs, rng, a+","+b)
				}
			}
		}
	}
}

// checkPages compares the pages of one ordering at the start, the middle,
// the end and past it, over a random filter of the biggest business.
func checkPages(t *testing.T, e *Engine, recs []*record.Record, rng *rand.Rand, ordering string) {
	t.Helper()
	q := map[string]any{"bk_biz_id": 1, "ordering": ordering, "scope": map[string]any{"bk_set_env": "0"}}
	switch rng.IntN(3) {
	case 0:
		q["process_status"] = rng.IntN(3)
	case 1:
		q["searches"] = []string{"10.0"}
	}
	pagesize := []int{1, 7, 50, 400}[rng.IntN(4)]
	count := countMatches(t, e, q)
	last := max(1, (count+pagesize-1)/pagesize)
	for _, page := range []int{1, 2, last / 2, last - 1, last, last + 1} {
		if page < 1 {
			continue
		}
		q["page"], q["pagesize"] = page, pagesize
		body, _ := json.Marshal(q)
		got, _ := e.Do(context.Background(), body)
		if want := answer(recs, body); !sameAnswer(t, got, want) {
			t.Fatalf("request %s differs\nengine: %.1500s\noracle: %.1500s", body, got, want)
		}
	}
}

// countMatches returns the count the engine answers for q.
func countMatches(t *testing.T, e *Engine, q map[string]any) int {
	t.Helper()
	q["page"], q["pagesize"] = 1, 1
	body, _ := json.Marshal(q)
	out, _ := e.Do(context.Background(), body)
	var env struct {
		Data struct{ Count int } `json:"data"`
	}
	if err := json.Unmarshal(out, &env); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	return env.Data.Count
}
