package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/procq/procq/engine"
	"github.com/procq/procq/gsekit"
	"github.com/procq/procq/internal/synth"
	"github.com/procq/procq/record"
	"github.com/procq/procq/workload"
)

func TestLoadtestCountsAndBounds(t *testing.T) {
	opt := synth.Options{Processes: 300, Seed: 1}
	var recs []*record.Record
	if err := synth.Generate(opt, func(r *record.Record) error { recs = append(recs, r); return nil }); err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(recs)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gsekit.Route(gsekit.NewHandler(engine.NewLive(e).Load, gsekit.HandlerOptions{}), nil))
	defer srv.Close()
	bodies, err := synth.Requests(opt, 20, 1)
	if err != nil {
		t.Fatal(err)
	}
	bodies = append(bodies, []byte(`{"bk_biz_id":2}`)) // one 400 in the mix
	var reqs []workload.Request
	for i, b := range bodies {
		reqs = append(reqs, workload.Request{Line: i + 1, Body: b})
	}
	h, err := workload.NewHTTP(srv.URL, gsekit.Path, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	res, err := h.Run(context.Background(), reqs, workload.Plan{Concurrency: 3, Duration: time.Minute, Count: 42}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 42 || res.Answered != 42 || res.Statuses[200]+res.Statuses[400] != 42 || res.Statuses[400] == 0 {
		t.Errorf("requests %d, answered %d, statuses %v; want 42 with some 400s", res.Sent, res.Answered, res.Statuses)
	}
	if res.P50 > res.P99 || res.P99 > res.Max || res.Max == 0 {
		t.Errorf("quantiles out of order: %v %v %v", res.P50, res.P99, res.Max)
	}
	if res.Throughput() <= 0 {
		t.Errorf("throughput %v", res.Throughput())
	}

	// The command: a closed loop and an open loop, bounded by count.
	var out bytes.Buffer
	f, err := parseLoadFlags([]string{"--url", srv.URL, "--concurrency", "2", "--rate", "500,1000", "--count", "10", "--warmup", "0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := loadRuns(context.Background(), &out, h, reqs, f); err != nil {
		t.Fatal(err)
	}
	// A note, the header, then each rate's line, whether it was kept, and
	// the load generator's CPU.
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != 8 ||
		!strings.HasPrefix(lines[0], "open loop, at most 2 in flight") ||
		!strings.HasPrefix(lines[2], "rate=500 ") || !strings.Contains(lines[5], " 10 ") || !strings.Contains(lines[2], "(from sent: p50 ") ||
		!strings.Contains(lines[3], "target 500/s, sent 10 of 10 due") || !strings.Contains(lines[6], "target 1000/s, sent 10 of 10 due") ||
		!strings.Contains(lines[4], "load generator: ") || !strings.Contains(lines[7], " CPU a request") {
		t.Errorf("output:\n%s", out.String())
	}
}

// TestLoadtestDeadServer runs the command against a closed port on
// 127.0.0.1: every request fails, no latency is printed, and the command
// fails.
func TestLoadtestDeadServer(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	r := procq(t, "", "loadtest", "--url", "http://"+addr, "--processes", "300", "--mix-count", "5",
		"--concurrency", "2", "--warmup", "0", "--count", "20")
	if r.code != 1 || !strings.Contains(r.stderr, "20 measured requests got no API answer") {
		t.Fatalf("loadtest against a dead server: %+v", r)
	}
	fields := strings.Fields(strings.Split(r.stdout, "\n")[2])
	if len(fields) < 9 || fields[1] != "0" || fields[2] != "20" || fields[4] != "-" || fields[7] != "-" || !strings.HasPrefix(fields[8], "error:20") {
		t.Errorf("row %q: want 0 answered, 20 failed, no latency", fields)
	}
	err = runLoadtest([]string{"--url", "http://" + addr, "--processes", "300", "--mix-count", "5", "--concurrency", "1", "--warmup", "0", "--count", "3"})
	if !errors.Is(err, errRequestsFailed) {
		t.Errorf("runLoadtest: %v", err)
	}
}

func TestLoadtestLoopbackOnly(t *testing.T) {
	err := runLoadtest([]string{"--url", "http://example.com", "--processes", "10"})
	if err == nil || !strings.Contains(err.Error(), "this machine only") {
		t.Errorf("non-loopback URL: %v", err)
	}
	for _, args := range [][]string{
		{"--processes", "10", "--duration", "1h"},
		{"--processes", "10", "--concurrency", "0"},
		{"--processes", "10", "--rate", "0"},
		{"--processes", "10", "--rate", "fast"},
		{"--processes", "10", "--count", "0"},
	} {
		if err := runLoadtest(args); err == nil {
			t.Errorf("%v was accepted", args)
		}
	}
}

func TestReadBodies(t *testing.T) {
	p := filepath.Join(t.TempDir(), "reqs.jsonl")
	os.WriteFile(p, []byte("{\"a\":1}\n\n  {\"b\":2}  \n{\"c\":3}"), 0o644)
	bodies, err := readBodies(p)
	if err != nil || len(bodies) != 3 || string(bodies[1].Body) != `{"b":2}` {
		t.Errorf("readBodies: %+v %v", bodies, err)
	}
}
