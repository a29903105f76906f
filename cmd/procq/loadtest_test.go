package main

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"procq/engine"
	"procq/gsekit"
	"procq/record"
	"procq/synth"
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
	res, err := runLoad(context.Background(), loadConfig{
		url: srv.URL + gsekit.Path, bodies: bodies, concurrency: 3,
		duration: time.Minute, maxRequests: 42,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.requests != 42 || len(res.latencies) != 42 || res.statuses[200]+res.statuses[400] != 42 || res.statuses[400] == 0 {
		t.Errorf("requests %d, latencies %d, statuses %v; want 42 with some 400s", res.requests, len(res.latencies), res.statuses)
	}
	if res.quantile(0.5) > res.quantile(0.99) || res.quantile(0.99) > res.quantile(1) || res.quantile(1) != res.latencies[41] {
		t.Errorf("quantiles out of order: %v %v %v", res.quantile(0.5), res.quantile(0.99), res.quantile(1))
	}
	if res.throughput() <= 0 {
		t.Errorf("throughput %v", res.throughput())
	}
}

func TestLoadtestLoopbackOnly(t *testing.T) {
	for raw, want := range map[string]string{
		"http://127.0.0.1:8080":                "http://127.0.0.1:8080" + gsekit.Path,
		"http://localhost:9/":                  "http://localhost:9" + gsekit.Path,
		"http://[::1]:8080/x":                  "http://[::1]:8080/x",
		"http://10.0.0.1:8080":                 "",
		"http://example.com/":                  "",
		"https://127.0.0.1:8080":               "",
		"http://127.0.0.1.example.com:80/path": "",
	} {
		got, err := loopbackURL(raw)
		if (err == nil) != (want != "") || got != want {
			t.Errorf("loopbackURL(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
	err := runLoadtest([]string{"--url", "http://example.com", "--mix-processes", "10"})
	if err == nil || !strings.Contains(err.Error(), "this machine only") {
		t.Errorf("non-loopback URL: %v", err)
	}
	if err := runLoadtest([]string{"--mix-processes", "10", "--duration", "1h"}); err == nil {
		t.Error("an hour-long load test was accepted")
	}
	if err := runLoadtest([]string{"--mix-processes", "10", "--concurrency", "0"}); err == nil {
		t.Error("concurrency 0 was accepted")
	}
}

func TestReadBodies(t *testing.T) {
	p := filepath.Join(t.TempDir(), "reqs.jsonl")
	os.WriteFile(p, []byte("{\"a\":1}\n\n  {\"b\":2}  \n{\"c\":3}"), 0o644)
	bodies, err := readBodies(p)
	if err != nil || len(bodies) != 3 || string(bodies[1]) != `{"b":2}` {
		t.Errorf("readBodies: %q %v", bodies, err)
	}
}
