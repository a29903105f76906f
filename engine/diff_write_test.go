package engine

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/procq/procq/record"
)

// writeModel is the oracle's copy of the data: each process's record.
type writeModel map[int64]*record.Record

func (m writeModel) records() []*record.Record {
	out := make([]*record.Record, 0, len(m))
	for _, r := range m {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *record.Record) int { return cmp.Compare(a.ProcessID, b.ProcessID) })
	return out
}

// randomWrite applies one random batch to e and to the model: upserts of
// new ids and replacements (often moved elsewhere in the topology, or to a
// business the base lacks), deletions (some of absent ids), or a status
// batch over delta, base and absent processes.
func randomWrite(t *testing.T, rng *rand.Rand, e *Engine, m writeModel, step int) *Engine {
	t.Helper()
	live := m.records()
	existing := func() int64 {
		if len(live) == 0 || rng.IntN(8) == 0 {
			return rng.Int64N(1<<40) + 1 // most likely absent
		}
		if rng.IntN(3) == 0 {
			// The ends of the id order: where expression slices cut.
			k := rng.IntN(min(len(live), 4))
			if rng.IntN(2) == 0 {
				k = len(live) - 1 - k
			}
			return live[k].ProcessID
		}
		return live[rng.IntN(len(live))].ProcessID
	}
	switch rng.IntN(3) {
	case 0:
		ups := randomRecords(rng, rng.IntN(6)+1)
		for _, r := range ups {
			if rng.IntN(2) == 0 {
				r.ProcessID = existing()
			}
			if rng.IntN(6) == 0 {
				r.BizID = 4 // a business only the delta holds
			}
			r.Expression = r.DerivedExpression()
			m[r.ProcessID] = r
		}
		var dels []int64
		if rng.IntN(3) == 0 {
			dels = append(dels, ups[0].ProcessID) // the upsert wins
		}
		n, err := e.WithChanges(ups, dels)
		if err != nil {
			t.Fatal(err)
		}
		return n
	case 1:
		var dels []int64
		for range rng.IntN(5) + 1 {
			pid := existing()
			dels = append(dels, pid)
			delete(m, pid)
		}
		n, err := e.WithChanges(nil, dels)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	var ups []record.StatusUpdate
	var wantMissing []int64
	for range rng.IntN(20) + 1 {
		u := record.StatusUpdate{ProcessID: existing(), ProcessStatus: int64(rng.IntN(3)), IsAuto: rng.IntN(2) == 0}
		if rng.IntN(2) == 0 {
			u.SetProcInstInfos = true
			u.ProcInstInfos = []record.ProcInstInfo{{ProcessID: u.ProcessID, InstID: int64(step), ProcessStatus: u.ProcessStatus}}
		}
		ups = append(ups, u)
		old, ok := m[u.ProcessID]
		if !ok {
			wantMissing = append(wantMissing, u.ProcessID)
			continue
		}
		c := *old
		c.ProcessStatus, c.IsAuto = u.ProcessStatus, u.IsAuto
		if u.SetProcInstInfos {
			c.ProcInstInfos = u.ProcInstInfos
		}
		m[u.ProcessID] = &c
	}
	n, missing := e.WithStatus(ups)
	slices.Sort(wantMissing)
	if !slices.Equal(missing, wantMissing) {
		t.Fatalf("step %d: WithStatus missing %v, want %v", step, missing, wantMissing)
	}
	return n
}

// checkEngine compares e with the model: its records, lookups, and the
// answers to random requests and, when sweep is set, to every ordering
// pair in both directions at first pages, deep pages and past the last.
func checkEngine(t *testing.T, rng *rand.Rand, e *Engine, m writeModel, sweep bool, what string) {
	t.Helper()
	recs := m.records()
	if e.Len() != len(recs) {
		t.Fatalf("%s: Len %d, want %d", what, e.Len(), len(recs))
	}
	var got []*record.Record
	e.Records(func(r *record.Record) bool { got = append(got, r); return true })
	if len(got)+len(recs) > 0 && !reflect.DeepEqual(got, recs) {
		t.Fatalf("%s: Records differ: %d records, want %d\n%v\n%v", what, len(got), len(recs), pidsOf(got), pidsOf(recs))
	}
	for _, r := range recs[:min(len(recs), 5)] {
		if g, ok := e.Record(r.ProcessID); !ok || !reflect.DeepEqual(g, r) {
			t.Fatalf("%s: Record(%d) = %v, %v", what, r.ProcessID, g, ok)
		}
	}
	reqRecs := recs // the requests draw values from them
	if len(reqRecs) == 0 {
		reqRecs = randomRecords(rng, 3)
	}
	var bodies [][]byte
	for range 25 {
		body, _ := json.Marshal(randomRequest(rng, reqRecs))
		bodies = append(bodies, body)
	}
	for range 10 { // expression slices, which count base and delta together
		q := randomRequest(rng, reqRecs)
		delete(q, "scope")
		q["expression_scope"] = map[string]any{"bk_set_env": "0", "bk_set_name": "*", "bk_module_name": "*",
			"service_instance_name": "*", "bk_process_name": "*",
			"bk_process_id": []string{"[0:3]", "[-3:]", "[1:5]", "[:-2]", "[2:]"}[rng.IntN(5)]}
		body, _ := json.Marshal(q)
		bodies = append(bodies, body)
	}
	for _, a := range orderingKeys {
		for _, b := range orderingKeys {
			if !sweep {
				break
			}
			for _, dirs := range []string{"", "-"} {
				q := randomRequest(rng, reqRecs)
				q["ordering"] = dirs + a + "," + b
				if rng.IntN(2) == 0 {
					q["ordering"] = a + "," + dirs + b
				}
				q["pagesize"] = []int{1, 2, 7}[rng.IntN(3)]
				for _, page := range []int{1, 2, 40, 400, 1000} {
					q["page"] = page
					body, _ := json.Marshal(q)
					bodies = append(bodies, body)
				}
			}
		}
	}
	for i, body := range bodies {
		got, _ := e.Do(context.Background(), body)
		if want := answer(recs, body); !sameAnswer(t, got, want) {
			t.Fatalf("%s request %d (delta %+v) differs\nrequest: %s\nengine: %.1500s\noracle: %.1500s", what, i, e.Delta(), body, got, want)
		}
	}
}

// TestDifferentialWriteStream interleaves random writes with queries and
// checks every answer against the full scan after every batch, with
// merges forced at small delta sizes, and the engine before a merge
// against the merged one.
func TestDifferentialWriteStream(t *testing.T) {
	for seed := range uint64(3 * *diffScale) {
		rng := rand.New(rand.NewPCG(seed, 10))
		n := []int{0, 40, 400}[seed%3]
		m := writeModel{}
		var recs []*record.Record
		if n > 0 {
			recs = randomRecords(rng, n)
		}
		for _, r := range recs {
			m[r.ProcessID] = r
		}
		e, err := New(slices.Clone(recs))
		if err != nil {
			t.Fatal(err)
		}
		mergeAt := []int{8, 30, 60}[seed%3]
		merges := 0
		for step := range 60 {
			e = randomWrite(t, rng, e, m, step)
			checkEngine(t, rng, e, m, step%4 == 0, fmt.Sprintf("seed %d step %d", seed, step))
			if e.NeedsMerge(mergeAt) {
				merged, err := e.Merge()
				if err != nil {
					t.Fatal(err)
				}
				if d := merged.Delta(); d.Records != 0 || d.Tombstones != 0 || merged.Version() != e.Version() {
					t.Fatalf("seed %d step %d: merged delta %+v version %d, want empty, %d", seed, step, d, merged.Version(), e.Version())
				}
				e = merged
				merges++
				checkEngine(t, rng, e, m, true, fmt.Sprintf("seed %d step %d merged", seed, step))
			}
		}
		if merges == 0 {
			t.Fatalf("seed %d: no merge in 60 steps at %d", seed, mergeAt)
		}
	}
}

func pidsOf(recs []*record.Record) []int64 {
	out := make([]int64, len(recs))
	for i, r := range recs {
		out[i] = r.ProcessID
	}
	return out
}
