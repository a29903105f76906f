package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/procq/procq/gsekit"
	"github.com/procq/procq/server"
)

// TestServeNeedsASource: serve without --snapshot, --data-dir or --demo is
// a usage error naming the three flags; --demo excludes the other two.
func TestServeNeedsASource(t *testing.T) {
	for _, c := range []struct {
		args  []string
		code  int
		names []string
	}{
		{nil, 2, []string{"--snapshot", "--data-dir", "--demo"}},
		{[]string{"--addr", "127.0.0.1:0"}, 2, []string{"--snapshot", "--data-dir", "--demo"}},
		{[]string{"--demo", "--snapshot", "x.snap"}, 1, []string{"--demo excludes"}},
		{[]string{"--demo", "--data-dir", "d"}, 1, []string{"--demo excludes"}},
	} {
		r := procq(t, "", append([]string{"serve"}, c.args...)...)
		if r.code != c.code {
			t.Errorf("serve %v: exit %d, want %d: %s", c.args, r.code, c.code, r.stderr)
		}
		for _, n := range c.names {
			if !strings.Contains(r.stderr, n) {
				t.Errorf("serve %v: stderr does not name %s: %s", c.args, n, r.stderr)
			}
		}
	}
}

// TestServeJSONLogs runs serve --log-format json, queries it (an answer,
// a client error, an unknown path), stops it with SIGINT, and checks that
// every stderr line is one JSON object, the banner among them, with
// durations in float seconds and client errors below warn.
func TestServeJSONLogs(t *testing.T) {
	cmd := exec.Command(os.Args[0], "serve", "--demo", "--processes", "500", "--addr", "127.0.0.1:0",
		"--log-format", "json", "--log-level", "debug")
	cmd.Env = append(os.Environ(), "PROCQ_TEST_MAIN=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(stderr)
	var lines []map[string]any
	next := func() map[string]any {
		if !sc.Scan() {
			return nil
		}
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("stderr line is not JSON: %v: %q", err, sc.Text())
		}
		lines = append(lines, rec)
		return rec
	}
	url := ""
	for url == "" {
		rec := next()
		if rec == nil {
			break
		}
		if rec["msg"] == "serving" {
			url, _ = rec["url"].(string)
		}
	}
	if url == "" {
		t.Fatalf("no serving record: %v", lines)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for _, body := range []string{server.DemoRequest, `{"bk_biz_id":2}`} {
		resp, err := client.Post(url, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if resp, err := client.Get(strings.TrimSuffix(url, gsekit.Path) + "/nope"); err == nil {
		resp.Body.Close()
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	for next() != nil {
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	requests := 0
	for _, rec := range lines {
		if msg, _ := rec["msg"].(string); strings.HasPrefix(msg, "request") {
			requests++
			if st := rec["status"].(float64); st >= 400 && st < 500 && rec["level"] != "INFO" {
				t.Errorf("client error logged at %v: %v", rec["level"], rec)
			}
			if _, ok := rec["duration_seconds"].(float64); !ok {
				t.Errorf("no duration_seconds: %v", rec)
			}
		}
	}
	if requests != 3 || lines[len(lines)-1]["msg"] != "stopped" {
		t.Errorf("%d request records, last %v", requests, lines[len(lines)-1])
	}
}
