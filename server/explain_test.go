package server

import (
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/procq/procq/gsekit"
)

func TestExplainOverHTTPAndSlowLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.snap")
	writeSnapshot(t, path, 200, 1)
	for _, tc := range []struct {
		name     string
		slow     time.Duration
		query    string
		explain  bool
		slowLogs bool
	}{
		{"plain", 0, "", false, false},
		{"explain=1", 0, "?explain=1", true, false},
		{"explain=0", 0, "?explain=0", false, false},
		{"slow log", time.Nanosecond, "", false, true},
		{"slow log off", time.Hour, "", false, false},
	} {
		s, logs := newTestServer(Config{Source: fileSource(path), SlowLog: tc.slow})
		if _, err := s.Load(); err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(s.Handler())
		a := do(t, "POST", ts.URL+gsekit.Path+tc.query, countAll)
		ts.Close()
		if a.status != 200 || strings.Contains(string(a.body), `"explain":`) != tc.explain {
			t.Errorf("%s: %d, explain in the answer %v", tc.name, a.status, !tc.explain)
		}
		if got := strings.Contains(logs.String(), `msg="slow query"`) && strings.Contains(logs.String(), `\"kind\":\"bk_biz_id\"`); got != tc.slowLogs {
			t.Errorf("%s: slow log written %v:\n%s", tc.name, got, logs)
		}
	}
}
