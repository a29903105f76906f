package server

import (
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/procq/procq/gsekit"
)

// TestLogLevels: an answered request logs at debug, a client error at
// info, a server error at error; durations are float seconds.
func TestLogLevels(t *testing.T) {
	logs := new(syncBuffer)
	s := New(Config{Source: demoSource(200), Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if _, err := s.Load(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	for _, c := range []struct {
		method, path, body string
		status             int
		level              string
	}{
		{"POST", gsekit.Path, `{"bk_biz_id":2,"scope":{},"page":1,"pagesize":1}`, 200, "DEBUG"},
		{"POST", gsekit.Path, `{"bk_biz_id":2}`, 400, "INFO"},
		{"GET", gsekit.Path, "", 405, "INFO"},
		{"GET", "/nope", "", 404, "INFO"},
		{"GET", "/healthz", "", 200, "DEBUG"},
		{"POST", "/admin/reload", "", 409, "INFO"},
	} {
		before := len(logs.String())
		if a := do(t, c.method, srv.URL+c.path, c.body); a.status != c.status {
			t.Fatalf("%s %s: %d, want %d", c.method, c.path, a.status, c.status)
		}
		found := false
		for _, l := range strings.Split(strings.TrimSpace(logs.String()[before:]), "\n") {
			var rec map[string]any
			if err := json.Unmarshal([]byte(l), &rec); err != nil {
				t.Fatalf("log line is not JSON: %v: %s", err, l)
			}
			if rec["path"] != c.path || !strings.HasPrefix(rec["msg"].(string), "request") {
				continue
			}
			found = true
			if rec["level"] != c.level {
				t.Errorf("%s %s (%d) logged at %v, want %s", c.method, c.path, c.status, rec["level"], c.level)
			}
			if d, ok := rec["duration_seconds"].(float64); !ok || d < 0 || d > 60 {
				t.Errorf("duration_seconds = %v, want float seconds: %s", rec["duration_seconds"], l)
			}
		}
		if !found {
			t.Errorf("%s %s not logged:\n%s", c.method, c.path, logs.String()[before:])
		}
	}
	for status, want := range map[int]slog.Level{200: slog.LevelDebug, 404: slog.LevelInfo, 413: slog.LevelInfo,
		500: slog.LevelError, 503: slog.LevelWarn} {
		if lv := statusLevel(status); lv != want {
			t.Errorf("statusLevel(%d) = %v, want %v", status, lv, want)
		}
	}
}

// TestRegisterer: an embedder's registry receives the server's metrics,
// procq_build_info included, and GET /metrics serves it.
func TestRegisterer(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := New(Config{Source: demoSource(50), Registerer: reg})
	if s.Gatherer() != prometheus.Gatherer(reg) {
		t.Fatal("Gatherer is not the registry given")
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
		if mf.GetName() != "procq_build_info" {
			continue
		}
		m := mf.GetMetric()[0]
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if m.GetGauge().GetValue() != 1 || labels["go_version"] != runtime.Version() || labels["version"] == "" || labels["commit"] == "" {
			t.Errorf("procq_build_info: %v = %v", labels, m.GetGauge().GetValue())
		}
	}
	for _, n := range []string{"procq_build_info", "procq_reloads_total", "procq_term_cache_bytes"} {
		if !names[n] {
			t.Errorf("%s not in the embedder's registry", n)
		}
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	if a := do(t, "GET", srv.URL+"/metrics", ""); !strings.Contains(string(a.body), "procq_build_info{") || strings.Contains(string(a.body), "go_goroutines") {
		t.Errorf("/metrics does not serve the embedder's registry:\n%s", a.body)
	}
	// Without a Registerer: a registry of its own, Go collector included.
	own := httptest.NewServer(New(Config{Source: demoSource(50)}).Handler())
	defer own.Close()
	if a := do(t, "GET", own.URL+"/metrics", ""); !strings.Contains(string(a.body), "procq_build_info{") || !strings.Contains(string(a.body), "go_goroutines") {
		t.Errorf("/metrics of a server's own registry:\n%s", a.body)
	}
}
