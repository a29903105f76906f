package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/procq/procq/api"
	"github.com/procq/procq/engine"
	"github.com/procq/procq/gsekit"
	"github.com/procq/procq/internal/synth"
	"github.com/procq/procq/snapshot"
)

// writeSnapshot writes the synthetic data set of n processes made with
// seed to path, atomically replacing the file there.
func writeSnapshot(t testing.TB, path string, n int, seed int64) {
	t.Helper()
	w, err := snapshot.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	err = synth.Generate(synth.Options{Processes: n, Seed: seed}, w.Append)
	if err != nil {
		w.Abort()
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use, for logs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newTestServer returns a server for cfg logging at debug level into the
// returned buffer.
func newTestServer(cfg Config) (*Server, *syncBuffer) {
	logs := new(syncBuffer)
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return New(cfg), logs
}

type envelope struct {
	Result  bool            `json:"result"`
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

type answer struct {
	status int
	body   []byte
	env    envelope
}

func do(t testing.TB, method, url, body string) answer {
	t.Helper()
	a, err := tryDo(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// tryDo sends one request; it is safe to call from any goroutine.
func tryDo(method, url, body string) (answer, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	a := answer{status: resp.StatusCode, body: b}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(b, &a.env); err != nil {
			return a, fmt.Errorf("%s %s: not JSON: %v: %s", method, url, err, b)
		}
	}
	return a, nil
}

const countAll = `{"bk_biz_id":2,"scope":{"bk_set_env":"0"},"fields":["bk_process_id"],"page":1,"pagesize":1000}`

func TestServeEndToEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.snap")
	writeSnapshot(t, path, 800, 1)
	s, _ := newTestServer(Config{Source: fileSource(path), MaxBodyBytes: 2048})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	if a := do(t, "GET", srv.URL+"/healthz", ""); a.status != 503 {
		t.Errorf("healthz before load: %d %s", a.status, a.body)
	}
	if a := do(t, "POST", srv.URL+gsekit.Path, DemoRequest); a.status != 503 || a.env.Code != api.CodeUnavailable {
		t.Errorf("query before load: %d %s", a.status, a.body)
	}
	info, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if info.Records != 800 || info.Source != path || info.Created.IsZero() {
		t.Errorf("load info %+v", info)
	}
	a := do(t, "GET", srv.URL+"/healthz", "")
	if a.status != 200 || !strings.Contains(string(a.body), `"records":800`) ||
		!strings.Contains(string(a.body), `"source":"snapshot"`) || strings.Contains(string(a.body), filepath.Base(path)) {
		t.Errorf("healthz: %d %s", a.status, a.body)
	}

	want, err := s.Engine().Do(context.Background(), []byte(DemoRequest))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{gsekit.Path, "/" + gsekit.Path, strings.TrimSuffix(gsekit.Path, "/"), "/" + strings.TrimSuffix(gsekit.Path, "/")} {
		a := do(t, "POST", srv.URL+p, DemoRequest)
		if a.status != 200 || !bytes.Equal(a.body, want) {
			t.Errorf("POST %s: %d %s\nwant %s", p, a.status, a.body, want)
		}
	}

	for _, tc := range []struct {
		name, method, path, body string
		status, code             int
	}{
		{"validation", "POST", gsekit.Path, `{"bk_biz_id":2,"scope":{},"page":1}`, 400, 4100001},
		{"malformed", "POST", gsekit.Path, `{"bk_biz_id":2,`, 400, 4100001},
		{"expression", "POST", gsekit.Path, `{"bk_biz_id":2,"expression_scope":{"bk_set_env":"3","bk_module_name":"gse[1-"},"page":1,"pagesize":1}`, 400, 4111001},
		{"slice", "POST", gsekit.Path, `{"bk_biz_id":2,"expression_scope":{"bk_set_env":"3","bk_process_id":"[0:3][1:2]"},"page":1,"pagesize":1}`, 400, 4111003},
		{"oversized", "POST", gsekit.Path, `{"pad":"` + strings.Repeat(" ", 4096) + `"}`, 413, 4100001},
		{"wrong method", "GET", gsekit.Path, ``, 405, 405},
		{"unknown path", "POST", "/v2/gsekit/api/process/status/", `{}`, 404, 404},
		{"reload GET", "GET", "/admin/reload", ``, 405, 405},
		{"dot segments", "POST", "/v2/../admin/reload", ``, 404, 404},
		{"dot segments in the path", "POST", "/v2/gsekit/api/process/../process/process_status/", DemoRequest, 404, 404},
	} {
		a := do(t, tc.method, srv.URL+tc.path, tc.body)
		if a.status != tc.status || a.env.Result || a.env.Code != tc.code || a.env.Message == "" || string(a.env.Data) != "null" {
			t.Errorf("%s: got %d %s; want %d with code %d", tc.name, a.status, a.body, tc.status, tc.code)
		}
	}
}

func TestServeMetrics(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.snap")
	writeSnapshot(t, path, 300, 1)
	s, _ := newTestServer(Config{Source: fileSource(path)})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	if _, err := s.Load(); err != nil {
		t.Fatal(err)
	}
	do(t, "POST", srv.URL+gsekit.Path, DemoRequest)
	do(t, "POST", srv.URL+gsekit.Path, DemoRequest)
	do(t, "POST", srv.URL+gsekit.Path, `{}`)
	do(t, "POST", srv.URL+"/admin/reload", ``)
	a := do(t, "GET", srv.URL+"/metrics", "")
	if a.status != 200 {
		t.Fatalf("metrics: %d", a.status)
	}
	text := string(a.body)
	for _, want := range []string{
		`procq_requests_total{code="0",status="200"} 2`,
		`procq_requests_total{code="4100001",status="400"} 1`,
		`procq_request_duration_seconds_bucket{le="+Inf"} 3`,
		`procq_request_duration_seconds_count 3`,
		`procq_records_loaded 300`,
		`procq_snapshot_load_duration_seconds `,
		`procq_snapshot_loaded_timestamp_seconds `,
		`procq_snapshot_age_seconds `,
		`procq_reloads_total{result="ok"} 1`,
		`procq_reloads_total{result="error"} 0`,
		`go_goroutines `,
		`procq_term_cache_limit_bytes 3.3554432e+07`,
		`procq_term_cache_bytes `,
		`procq_term_cache_entries `,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestServeAppCredentials(t *testing.T) {
	dir := t.TempDir()
	credsPath := filepath.Join(dir, "apps.json")
	if err := os.WriteFile(credsPath, []byte(`{"gsekit": "top-s3cret-value", "bk_monitor": "other-s3cret"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	creds, err := gsekit.LoadCredentials(credsPath)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "a.snap")
	writeSnapshot(t, path, 300, 1)
	s, logs := newTestServer(Config{Source: fileSource(path), Credentials: creds})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	if _, err := s.Load(); err != nil {
		t.Fatal(err)
	}
	with := func(code, secret string) string {
		return strings.Replace(DemoRequest, "{", fmt.Sprintf(`{"bk_app_code":%q,"bk_app_secret":%q,`, code, secret), 1)
	}
	for _, tc := range []struct {
		body   string
		status int
	}{
		{with("gsekit", "top-s3cret-value"), 200},
		{with("bk_monitor", "other-s3cret"), 200},
		{with("gsekit", "other-s3cret"), 401},
		{with("gsekit", "top-s3cret-valuE"), 401},
		{with("nobody", "top-s3cret-value"), 401},
		{DemoRequest, 401},
	} {
		a := do(t, "POST", srv.URL+gsekit.Path, tc.body)
		if a.status != tc.status {
			t.Errorf("%.80s: status %d, want %d: %s", tc.body, a.status, tc.status, a.body)
		}
		if tc.status == 401 && (a.env.Code != 401 || a.env.Result || string(a.env.Data) != "null") {
			t.Errorf("401 without the envelope: %s", a.body)
		}
	}
	if a := do(t, "POST", srv.URL+"/admin/reload", `{"bk_app_code":"gsekit","bk_app_secret":"wrong"}`); a.status != 401 {
		t.Errorf("reload with a wrong secret: %d %s", a.status, a.body)
	}
	if a := do(t, "POST", srv.URL+"/admin/reload", `{"bk_app_code":"gsekit","bk_app_secret":"top-s3cret-value"}`); a.status != 200 {
		t.Errorf("reload with the secret: %d %s", a.status, a.body)
	}
	l := logs.String()
	if !strings.Contains(l, "status=401") || !strings.Contains(l, "status=200") || !strings.Contains(l, "path=/admin/reload") {
		t.Errorf("requests not logged:\n%s", l)
	}
	if strings.Contains(l, "s3cret") {
		t.Errorf("a secret is in the log:\n%s", l)
	}
}

func TestReloadSwapsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data.snap")
	writeSnapshot(t, path, 300, 1)
	s, _ := newTestServer(Config{Source: fileSource(path)})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	if _, err := s.Load(); err != nil {
		t.Fatal(err)
	}
	before := do(t, "POST", srv.URL+gsekit.Path, countAll)
	writeSnapshot(t, path, 500, 2)
	a := do(t, "POST", srv.URL+"/admin/reload", "")
	if a.status != 200 || !a.env.Result || !strings.Contains(string(a.env.Data), `"records":500`) {
		t.Fatalf("reload: %d %s", a.status, a.body)
	}
	after := do(t, "POST", srv.URL+gsekit.Path, countAll)
	want, _ := s.Engine().Do(context.Background(), []byte(countAll))
	if bytes.Equal(before.body, after.body) || !bytes.Equal(after.body, want) {
		t.Errorf("after the reload the answer is not the new data's:\nbefore %.200s\nafter  %.200s", before.body, after.body)
	}
	if s.Info().Records != 500 {
		t.Errorf("info after reload: %+v", s.Info())
	}
}

func TestReloadCorruptKeepsOld(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data.snap")
	writeSnapshot(t, path, 300, 1)
	s, logs := newTestServer(Config{Source: fileSource(path)})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	if _, err := s.Load(); err != nil {
		t.Fatal(err)
	}
	old, oldInfo := s.Engine(), s.Info()
	want := do(t, "POST", srv.URL+gsekit.Path, countAll)

	// Truncate the file: a corrupt snapshot.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = s.Reload()
	if err == nil || !errors.Is(err, snapshot.ErrCorrupt) || !strings.Contains(err.Error(), path) {
		t.Errorf("reload of a corrupt file: err %v", err)
	}
	if s.Engine() != old || s.Info() != oldInfo {
		t.Error("a failed reload replaced the engine")
	}
	a := do(t, "POST", srv.URL+"/admin/reload", "")
	if a.status != 500 || a.env.Result || !strings.Contains(a.env.Message, "still serving the previous data") || strings.Contains(a.env.Message, filepath.Base(path)) {
		t.Errorf("POST /admin/reload of a corrupt file: %d %s", a.status, a.body)
	}
	if got := do(t, "POST", srv.URL+gsekit.Path, countAll); !bytes.Equal(got.body, want.body) {
		t.Errorf("after a failed reload the answer changed")
	}
	if h := do(t, "GET", srv.URL+"/healthz", ""); h.status != 200 {
		t.Errorf("healthz after a failed reload: %d", h.status)
	}
	if !strings.Contains(logs.String(), `level=WARN msg="reload failed"`) || !strings.Contains(logs.String(), `level=ERROR msg=request method=POST path=/admin/reload`) {
		t.Errorf("the failed reload is not logged at warn, its 500 at error:\n%s", logs)
	}
	// Not a snapshot at all, and a missing file.
	os.WriteFile(path, []byte("hello"), 0o644)
	if _, err := s.Reload(); err == nil || s.Engine() != old {
		t.Errorf("reload of a non-snapshot: err %v", err)
	}
	os.Remove(path)
	if _, err := s.Reload(); err == nil || s.Engine() != old {
		t.Errorf("reload of a missing file: err %v", err)
	}
	// The file comes back: the reload works again.
	writeSnapshot(t, path, 200, 3)
	if info, err := s.Reload(); err != nil || info.Records != 200 {
		t.Errorf("reload after repair: %+v %v", info, err)
	}
}

func TestReloadDemo(t *testing.T) {
	s, _ := newTestServer(Config{Source: demoSource(200)})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	info, err := s.Load()
	if err != nil || info.Source != "demo" || info.Records != 200 {
		t.Fatalf("demo load: %+v %v", info, err)
	}
	if _, err := s.Reload(); !errors.Is(err, ErrNoSnapshot) {
		t.Errorf("demo reload: err %v, want ErrNoSnapshot", err)
	}
	a := do(t, "POST", srv.URL+"/admin/reload", "")
	if a.status != 409 || a.env.Code != 409 || !strings.Contains(a.env.Message, "--snapshot") {
		t.Errorf("POST /admin/reload on the demo: %d %s", a.status, a.body)
	}
	if a := do(t, "POST", srv.URL+gsekit.Path, DemoRequest); a.status != 200 {
		t.Errorf("demo query: %d %s", a.status, a.body)
	}
	if a := do(t, "GET", srv.URL+"/healthz", ""); !strings.Contains(string(a.body), `"source":"demo"`) {
		t.Errorf("demo healthz: %d %s", a.status, a.body)
	}
}

// TestReloadUnderLoad reloads the snapshot file, alternating between two
// data sets, while clients query: every answer must be one data set's
// answer entirely.
func TestReloadUnderLoad(t *testing.T) {
	dir := t.TempDir()
	path, fileA, fileB := filepath.Join(dir, "live.snap"), filepath.Join(dir, "a.snap"), filepath.Join(dir, "b.snap")
	writeSnapshot(t, fileA, 400, 1)
	writeSnapshot(t, fileB, 700, 2)
	reqs := []string{countAll, DemoRequest, `{"bk_biz_id":2,"scope":{"bk_set_env":"0"},"ordering":"bk_host_innerip","page":3,"pagesize":5}`}
	wantA, wantB := make([][]byte, len(reqs)), make([][]byte, len(reqs))
	for i, name := range []string{fileA, fileB} {
		e, err := engine.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		for k, r := range reqs {
			b, _ := e.Do(context.Background(), []byte(r))
			[][][]byte{wantA, wantB}[i][k] = b
		}
	}
	if bytes.Equal(wantA[0], wantB[0]) {
		t.Fatal("the two data sets answer alike")
	}
	use := func(src string) {
		b, err := os.ReadFile(src)
		if err == nil {
			tmp := path + ".tmp"
			if err = os.WriteFile(tmp, b, 0o644); err == nil {
				err = os.Rename(tmp, path)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	use(fileA)
	s, _ := newTestServer(Config{Source: fileSource(path)})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	if _, err := s.Load(); err != nil {
		t.Fatal(err)
	}

	done := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[string]int{}
	const clients, perClient = 8, 30
	for c := range clients {
		wg.Go(func() {
			for i := range perClient {
				k := (c + i) % len(reqs)
				a, err := tryDo("POST", srv.URL+gsekit.Path, reqs[k])
				mu.Lock()
				switch {
				case err != nil:
					t.Errorf("client %d: %v", c, err)
				case a.status == 200 && bytes.Equal(a.body, wantA[k]):
					seen["A"]++
				case a.status == 200 && bytes.Equal(a.body, wantB[k]):
					seen["B"]++
				default:
					seen["bad"]++
					if seen["bad"] <= 3 {
						t.Errorf("request %d: %d, an answer of neither data set: %.300s", k, a.status, a.body)
					}
				}
				mu.Unlock()
			}
		})
	}
	go func() { wg.Wait(); close(done) }()
	reloads := 0
	for next := fileB; ; reloads++ {
		select {
		case <-done:
			t.Logf("%d reloads; answers %v", reloads, seen)
			if reloads == 0 || seen["A"] == 0 {
				t.Errorf("%d reloads, answers %v: the test did not interleave", reloads, seen)
			}
			return
		default:
		}
		use(next)
		a := do(t, "POST", srv.URL+"/admin/reload", "")
		if a.status != 200 {
			t.Fatalf("reload: %d %s", a.status, a.body)
		}
		if next == fileB {
			next = fileA
		} else {
			next = fileB
		}
	}
}

// TestRunGracefulShutdown stops Run while a request is in flight: the
// request finishes with its answer, Run returns nil, and the listener is
// closed.
func TestRunGracefulShutdown(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.snap")
	writeSnapshot(t, path, 300, 1)
	s, _ := newTestServer(Config{Source: fileSource(path)})
	started, release := make(chan struct{}), make(chan struct{})
	inner := s.root
	s.root = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Hold") != "" {
			close(started)
			<-release
		}
		inner.ServeHTTP(w, r)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan *LoadInfo, 1)
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx, ln, func(i *LoadInfo) { ready <- i }) }()
	if info := <-ready; info.Records != 300 {
		t.Errorf("ready with %+v", info)
	}
	if a := do(t, "GET", url+"/healthz", ""); a.status != 200 {
		t.Errorf("healthz: %d", a.status)
	}

	type result struct {
		a   answer
		err error
	}
	held := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest("POST", url+gsekit.Path, strings.NewReader(DemoRequest))
		req.Header.Set("X-Hold", "1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			held <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		held <- result{answer{status: resp.StatusCode, body: b}, err}
	}()
	<-started
	cancel()
	select {
	case err := <-ran:
		t.Fatalf("Run returned %v with a request in flight", err)
	default:
	}
	close(release)
	r := <-held
	if r.err != nil || r.a.status != 200 {
		t.Errorf("in-flight request: %v %d %s", r.err, r.a.status, r.a.body)
	}
	if err := <-ran; err != nil {
		t.Errorf("Run: %v", err)
	}
	if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		c.Close()
		t.Error("still accepting connections after Run returned")
	}
}

func TestRunFirstLoadFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.snap")
	os.WriteFile(path, []byte("not a snapshot"), 0o644)
	s, _ := newTestServer(Config{Source: fileSource(path)})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	err = s.Run(context.Background(), ln, func(*LoadInfo) { t.Error("ready called") })
	if err == nil || !errors.Is(err, snapshot.ErrNotSnapshot) || !strings.Contains(err.Error(), path) {
		t.Errorf("Run on a bad snapshot: %v", err)
	}
}

func TestPprofOwnListener(t *testing.T) {
	s, _ := newTestServer(Config{})
	ps, addr, err := s.startPprof("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close()
	if a := do(t, "GET", "http://"+addr.String()+"/debug/pprof/cmdline", ""); a.status != 200 {
		t.Errorf("pprof listener: %d", a.status)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	if a := do(t, "GET", srv.URL+"/debug/pprof/", ""); a.status != 404 {
		t.Errorf("pprof on the public mux: %d", a.status)
	}
	if _, _, err := s.startPprof("nonsense"); err == nil {
		t.Error("bad pprof address accepted")
	}
}
