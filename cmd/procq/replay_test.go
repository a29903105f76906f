package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReplayFlagErrors checks replay's and gen's flag errors: each names
// the flag or the file and does no work.
func TestReplayFlagErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.jsonl")
	if err := os.WriteFile(empty, []byte("\n  \n"), 0o644); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(dir, "log.jsonl")
	if err := os.WriteFile(log, []byte(`{"bk_biz_id":2}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badResults := filepath.Join(dir, "bad.jsonl")
	if err := os.WriteFile(badResults, []byte("{\"line\":0}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--requests", log}, "--snapshot is required"},
		{[]string{"--snapshot", "s"}, "--requests is required"},
		{[]string{"--snapshot", "s", "--requests", log, "--concurrency", "0"}, "--concurrency must be 1..1024"},
		{[]string{"--snapshot", "s", "--requests", log, "--count", "-1"}, "--count must be >= 0"},
		{[]string{"--snapshot", "s", "--requests", log, "--duration", "-1s"}, "--duration must be >= 0"},
		{[]string{"--snapshot", "s", "--requests", log, "--duration", "soon"}, "invalid value"},
		{[]string{"--snapshot", "s", "--requests", missing}, missing},
		{[]string{"--snapshot", "s", "--requests", empty}, empty + ": no requests in the log"},
		{[]string{"--snapshot", "s", "--requests", log, "--compare", missing}, "--compare:"},
		{[]string{"--snapshot", "s", "--requests", log, "--compare", badResults}, badResults + ":1: not a replay result"},
		{[]string{"--snapshot", missing, "--requests", log}, missing},
	} {
		err := runReplay(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("replay %v: got %v, want %q", tc.args, err, tc.want)
		}
	}
	err := runGen([]string{"--out", filepath.Join(dir, "x.snap"), "--requests-out", log, "--mix-count", "-1"})
	if err == nil || !strings.Contains(err.Error(), "--mix-count must be >= 0") {
		t.Errorf("gen --mix-count -1: %v", err)
	}
}

// TestReplayCompare generates a data set with its request log, replays
// it twice (same answers, exit 0) and against another data set (the
// differing lines are listed, exit 1).
func TestReplayCompare(t *testing.T) {
	dir := t.TempDir()
	snap1, snap2 := filepath.Join(dir, "a.snap"), filepath.Join(dir, "b.snap")
	log := filepath.Join(dir, "requests.jsonl")
	if r := procq(t, "", "gen", "--out", snap1, "--processes", "1000", "--requests-out", log, "--mix-count", "40"); r.code != 0 {
		t.Fatalf("gen: %+v", r)
	}
	if r := procq(t, "", "gen", "--out", snap2, "--processes", "1000", "--seed", "2"); r.code != 0 {
		t.Fatalf("gen: %+v", r)
	}
	f, err := os.Open(log)
	if err != nil {
		t.Fatal(err)
	}
	lines := 0
	for sc := bufio.NewScanner(f); sc.Scan(); lines++ {
		if !strings.HasPrefix(sc.Text(), `{"bk_biz_id":`) {
			t.Fatalf("log line %d: %s", lines+1, sc.Text())
		}
	}
	f.Close()
	if lines != 40 {
		t.Fatalf("request log has %d lines, want 40", lines)
	}

	res1, res2 := filepath.Join(dir, "r1.jsonl"), filepath.Join(dir, "r2.jsonl")
	r := procq(t, "", "replay", "--snapshot", snap1, "--requests", log, "--concurrency", "2", "--out", res1)
	if r.code != 0 || !strings.Contains(r.stdout, "sent 40 of 40") || !strings.Contains(r.stdout, "latency: p50") ||
		!strings.Contains(r.stdout, "answers by code: 0: ") {
		t.Fatalf("replay: %+v", r)
	}
	r = procq(t, "", "replay", "--snapshot", snap1, "--requests", log, "--count", "80", "--out", res2, "--compare", res1)
	if r.code != 0 || !strings.Contains(r.stdout, "40 requests compared, 0 answer differently") {
		t.Fatalf("replay --compare, same data: %+v", r)
	}
	r = procq(t, "", "replay", "--snapshot", snap2, "--requests", log, "--compare", res1)
	if r.code != 1 || !strings.Contains(r.stdout, "answer differently") || !strings.Contains(r.stdout, "\n  line ") ||
		!strings.Contains(r.stderr, "requests answer differently than in "+res1) {
		t.Fatalf("replay --compare, other data: %+v", r)
	}
}
