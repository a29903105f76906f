package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/procq/procq/record"
)

func readLines(t testing.TB, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<22)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			lines = append(lines, bytes.Clone(sc.Bytes()))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

func loadFixture(t testing.TB) []*record.Record {
	t.Helper()
	var recs []*record.Record
	for i, line := range readLines(t, "../testdata/records.jsonl") {
		r := new(record.Record)
		if err := json.Unmarshal(line, r); err != nil {
			t.Fatalf("records.jsonl:%d: %v", i+1, err)
		}
		recs = append(recs, r)
	}
	return recs
}

// TestConformance answers every fixture request and compares result, code
// and, on success, count and list (key order aside) with the expected
// answer of the reference implementation.
func TestConformance(t *testing.T) {
	e, err := New(loadFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	reqs := readLines(t, "../testdata/requests.jsonl")
	exps := readLines(t, "../testdata/expected.jsonl")
	if len(reqs) != len(exps) || len(reqs) == 0 {
		t.Fatalf("%d requests, %d expected answers", len(reqs), len(exps))
	}
	failed := 0
	for i := range reqs {
		got, _ := e.Do(context.Background(), reqs[i])
		if !sameAnswer(t, got, exps[i]) {
			failed++
			if failed <= 10 {
				t.Errorf("request %d: %s\n got: %.1500s\nwant: %.1500s", i+1, reqs[i], got, exps[i])
			}
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d fixture requests differ", failed, len(reqs))
	}
}
