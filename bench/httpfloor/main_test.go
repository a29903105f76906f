package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/procq/procq/engine"
)

// TestAnswers: every request of the fixture file gets, over HTTP, the
// bytes the engine answers to it; one the engine refuses, or a body not
// in the file, gets 404.
func TestAnswers(t *testing.T) {
	const snap, reqs = "../../testdata/records.v1.snap", "../../testdata/requests.jsonl"
	answers, refused, err := precompute(snap, reqs)
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.Load(snap)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(answers)
	defer srv.Close()
	lines, err := readRequests(reqs)
	if err != nil {
		t.Fatal(err)
	}
	n, bad := 0, 0
	for _, req := range lines {
		line := req.Body
		want, err := e.Do(context.Background(), line)
		if err != nil {
			bad++
			if _, status := post(t, srv.URL, line); status != http.StatusNotFound {
				t.Fatalf("%s: refused by the engine (%v), served with status %d, want 404", line, err, status)
			}
			continue
		}
		if got, status := post(t, srv.URL, line); status != http.StatusOK || !bytes.Equal(got, want) {
			t.Fatalf("%s: status %d, %.200s; want 200, %.200s", line, status, got, want)
		}
		n++
	}
	if n == 0 || bad != refused {
		t.Fatalf("%d requests answered, %d refused; precompute counted %d refused", n, bad, refused)
	}
	if _, status := post(t, srv.URL, []byte(`{"bk_biz_id":-1}`)); status != http.StatusNotFound {
		t.Errorf("unknown body: status %d, want 404", status)
	}
}

func post(t *testing.T, url string, body []byte) ([]byte, int) {
	t.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b, resp.StatusCode
}
