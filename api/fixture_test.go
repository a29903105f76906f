package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"testing"
)

// readLines returns the non-empty lines of a fixture file.
func readLines(t testing.TB, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		lines = append(lines, bytes.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// TestFixture drives every request of the conformance fixture: the lines
// the reference answers with 4100001 or 4111001 must fail with the same
// code and message, those it answers with 4111003 with that code, and
// every other line must pass.
func TestFixture(t *testing.T) {
	reqs := readLines(t, "../testdata/requests.jsonl")
	exps := readLines(t, "../testdata/expected.jsonl")
	if len(reqs) != len(exps) || len(reqs) == 0 {
		t.Fatalf("%d requests, %d expected answers", len(reqs), len(exps))
	}
	failures := 0
	for i, req := range reqs {
		var exp struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(exps[i], &exp); err != nil {
			t.Fatalf("expected.jsonl:%d: %v", i+1, err)
		}
		q, err := ParseRequest(req)
		if exp.Code == CodeSlice {
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeSlice {
				t.Errorf("requests.jsonl:%d: want code %d, got %v", i+1, CodeSlice, err)
			}
			continue
		}
		if exp.Code != CodeValidation && exp.Code != CodeExprSyntax {
			if err != nil {
				t.Errorf("requests.jsonl:%d: want success (reference code %d), got %v", i+1, exp.Code, err)
			} else if q == nil {
				t.Errorf("requests.jsonl:%d: nil query without error", i+1)
			}
			continue
		}
		failures++
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("requests.jsonl:%d: want *Error %q, got %v", i+1, exp.Message, err)
			continue
		}
		if e.Code != exp.Code || e.Message != exp.Message {
			t.Errorf("requests.jsonl:%d: got %d %q, want %d %q", i+1, e.Code, e.Message, exp.Code, exp.Message)
		}
	}
	if failures == 0 {
		t.Error("fixture holds no validation failure")
	}
}

// BenchmarkParseRequest parses every request of the conformance fixture.
func BenchmarkParseRequest(b *testing.B) {
	reqs := readLines(b, "../testdata/requests.jsonl")
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range reqs {
			_, _ = ParseRequest(r)
		}
	}
}
