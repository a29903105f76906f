package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"strings"
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

// explainStep is a step of data.explain as the tests read it.
type explainStep struct {
	Kind    string `json:"kind"`
	In, Out uint64
	Terms   struct {
		Count int
		First []string
	} `json:"terms"`
	Strategy string `json:"strategy"`
}

// partialRequest is q with only the filters named by kinds (step kinds)
// and its first searches searches: the request whose data.count an
// explain step's Out is.
func partialRequest(q map[string]any, kinds []string, searches int) map[string]any {
	p := map[string]any{"bk_biz_id": q["bk_biz_id"], "page": 1, "pagesize": 1}
	scope := map[string]any{"bk_set_env": "0"}
	p["scope"] = scope
	for _, k := range kinds {
		switch {
		case k == "bk_biz_id":
		case strings.HasPrefix(k, "scope."):
			scope[strings.TrimPrefix(k, "scope.")] = q["scope"].(map[string]any)[strings.TrimPrefix(k, "scope.")]
		case k == "expression_scope":
			delete(p, "scope")
			p["expression_scope"] = q["expression_scope"]
		case strings.HasPrefix(k, "expression_scope."):
			x := q["expression_scope"].(map[string]any)
			f := strings.TrimPrefix(k, "expression_scope.")
			delete(p, "scope")
			p["expression_scope"] = map[string]any{"bk_set_env": x["bk_set_env"], f: x[f]}
		default:
			p[k] = q[k]
		}
	}
	if searches > 0 {
		p["searches"] = q["searches"].([]any)[:searches]
	}
	return p
}

// TestExplainCountsArePartialCounts checks the cardinalities of explain
// against the requests they stand for: a filter's or expression field's
// Out is the count of the request with that filter alone, an intersect's
// or search's Out the count of the request with the filters and searches
// applied so far; the terms of an expression field and a search are
// values that the field matches.
func TestExplainCountsArePartialCounts(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 4))
	recs := randomRecords(rng, 1500)
	e, err := New(recs)
	if err != nil {
		t.Fatal(err)
	}
	count := func(q map[string]any) uint64 {
		t.Helper()
		body, _ := json.Marshal(q)
		out, err := e.Do(context.Background(), body)
		var a struct{ Data struct{ Count uint64 } }
		if err != nil || json.Unmarshal(out, &a) != nil {
			t.Fatalf("%s: %v %s", body, err, out)
		}
		return a.Data.Count
	}
	checked := map[string]int{}
	for range 300 {
		q := randomRequest(rng, recs)
		if s, ok := q["searches"].([]string); ok {
			q["searches"] = toAny(s)
		}
		body, _ := json.Marshal(q)
		got, err := e.DoWith(context.Background(), body, DoOptions{Explain: true})
		if err != nil {
			continue
		}
		var a struct {
			Data struct {
				Explain struct{ Steps []explainStep } `json:"explain"`
			} `json:"data"`
		}
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatal(err)
		}
		var applied []string
		searches := 0
		for _, s := range a.Data.Explain.Steps {
			var want uint64
			switch {
			case s.Kind == "intersect":
				applied = append(applied, s.Terms.First...)
				want = count(partialRequest(q, applied, 0))
			case s.Kind == "search":
				searches++
				want = count(partialRequest(q, applied, searches))
				if len(s.Terms.First) == 0 && s.Out > 0 {
					t.Errorf("%s: search step without terms: %+v", body, s)
				}
			case s.Kind == "page":
				if s.Strategy == "" {
					t.Errorf("%s: page step without strategy", body)
				}
				continue
			default:
				want = count(partialRequest(q, []string{s.Kind}, 0))
				if strings.HasPrefix(s.Kind, "expression_scope.") && s.Out > 0 && len(s.Terms.First) == 0 {
					t.Errorf("%s: expression field without terms: %+v", body, s)
				}
			}
			if s.Out != want {
				t.Errorf("%s: step %+v: out %d, partial request counts %d", body, s, s.Out, want)
			}
			checked[s.Kind]++
		}
	}
	for _, k := range []string{"bk_biz_id", "scope.bk_set_ids", "expression_scope", "expression_scope.bk_set_name",
		"expression_scope.bk_process_id", "bk_cloud_ids", "process_status", "intersect", "search"} {
		if checked[k] < 5 {
			t.Errorf("step %s checked %d times", k, checked[k])
		}
	}
}

func toAny[T any](vs []T) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

// BenchmarkExplain answers requests with and without explain on the bench
// engine (PROCQ_BENCH_PROCESSES processes): the cost of explain is the
// difference, mostly the expression fields evaluated alone and the
// search's matched terms.
func BenchmarkExplain(b *testing.B) {
	e, err := benchEngine()
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct{ name, body string }{
		{"filters", `{"bk_biz_id":2,"scope":{"bk_set_env":"0"},"process_status":1,"is_auto":true,"bk_cloud_ids":[0,1],"ordering":"-bk_host_innerip","page":3,"pagesize":50}`},
		{"expression", `{"bk_biz_id":2,"expression_scope":{"bk_set_env":"0","bk_set_name":"[zone.76, cluster-4, db_cluster_26]","bk_process_name":"gse*"},"page":1,"pagesize":50}`},
		{"search", `{"bk_biz_id":2,"scope":{"bk_set_env":"3"},"searches":["10.0.1"],"page":1,"pagesize":50}`},
	} {
		for _, explain := range []bool{false, true} {
			name := bc.name + "/plain"
			if explain {
				name = bc.name + "/explain"
			}
			b.Run(name, func(b *testing.B) {
				for b.Loop() {
					if _, err := e.DoWith(context.Background(), []byte(bc.body), DoOptions{Explain: explain}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
