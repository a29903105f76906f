package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// TestExplainKeepsTheAnswer checks that explain only adds data.explain:
// the rest of the answer is Do's byte for byte, and the page step starts
// from data.count; with and without a delta, with and without facets.
func TestExplainKeepsTheAnswer(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 3))
	recs := randomRecords(rng, 1200)
	base, err := New(recs)
	if err != nil {
		t.Fatal(err)
	}
	withDelta, err := base.WithChanges(randomRecords(rng, 40), []int64{recs[5].ProcessID})
	if err != nil {
		t.Fatal(err)
	}
	explained := 0
	for _, e := range []*Engine{base, withDelta} {
		for i := range 150 {
			q := randomRequest(rng, recs)
			if i%3 == 0 {
				q["facets"] = []string{"process_status", "bk_set_id"}
			}
			body, _ := json.Marshal(q)
			plain, perr := e.Do(context.Background(), body)
			got, xerr := e.DoWith(context.Background(), body, DoOptions{Explain: true})
			if (perr == nil) != (xerr == nil) {
				t.Fatalf("%s: errors %v and %v", body, perr, xerr)
			}
			if perr != nil {
				if !bytes.Equal(plain, got) {
					t.Errorf("%s: error answers differ", body)
				}
				continue
			}
			at := bytes.LastIndex(got, []byte(`,"explain":`))
			if at < 0 || !bytes.Equal(append(got[:at:at], "}}"...), plain) {
				t.Fatalf("%s: explained answer\n%s\nis not\n%s", body, got, plain)
			}
			var a struct {
				Data struct {
					Count   uint64 `json:"count"`
					Explain struct {
						DataVersion uint64 `json:"data_version"`
						Steps       []struct {
							Kind    string `json:"kind"`
							In, Out uint64
						} `json:"steps"`
					} `json:"explain"`
				} `json:"data"`
			}
			if err := json.Unmarshal(got, &a); err != nil {
				t.Fatal(err)
			}
			x := a.Data.Explain
			if x.DataVersion != e.Version() || len(x.Steps) == 0 || x.Steps[0].Kind != "bk_biz_id" {
				t.Fatalf("%s: explain %+v", body, x)
			}
			if last := x.Steps[len(x.Steps)-1]; a.Data.Count > 0 && (last.Kind != "page" || last.In != a.Data.Count) {
				t.Errorf("%s: last step %+v, count %d", body, last, a.Data.Count)
			}
			explained++
		}
	}
	if explained < 50 {
		t.Errorf("only %d answers explained", explained)
	}
}
