package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/procq/procq/gsekit"
	"github.com/procq/procq/store"
)

// newDataDirServer serves a data directory initialised with n synthetic
// processes, loaded, over httptest.
func newDataDirServer(t testing.TB, cfg Config, n int) (*Server, *httptest.Server) {
	t.Helper()
	tmp := t.TempDir()
	snap := filepath.Join(tmp, "a.snap")
	writeSnapshot(t, snap, n, 1)
	cfg.DataDir = filepath.Join(tmp, "data")
	if err := store.Init(cfg.DataDir, snap); err != nil {
		t.Fatal(err)
	}
	s, _ := newTestServer(cfg)
	if _, err := s.Load(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		srv.Close()
		if err := s.closeDataDir(); err != nil {
			t.Error(err)
		}
	})
	return s, srv
}

// doAdmin sends one request with the bearer token (none when "").
func doAdmin(t *testing.T, method, url, token, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, body: b}
	if err := json.Unmarshal(b, &a.env); err != nil {
		t.Fatalf("%s %s: not JSON: %s", method, url, b)
	}
	return a
}

// countOf answers countAll (business 2) and returns its count.
func countOf(t *testing.T, url string) int {
	t.Helper()
	a := do(t, "POST", url+gsekit.Path, countAll)
	var d struct{ Count int }
	if err := json.Unmarshal(a.env.Data, &d); err != nil || a.status != 200 {
		t.Fatalf("query: %d %s", a.status, a.body)
	}
	return d.Count
}

func TestMutationEndpoints(t *testing.T) {
	const token = "s3cret"
	s, srv := newDataDirServer(t, Config{AdminToken: token, MaxAdminBodyBytes: 4096}, 300)
	url := srv.URL
	before := countOf(t, url)

	// No token, a wrong one, and the wrong scheme all answer 401.
	for _, h := range []string{"", "Bearer nope", "Basic " + token, "Bearer " + token + "x"} {
		req, _ := http.NewRequest("POST", url+"/admin/delete", strings.NewReader(`{"bk_process_id":1}`))
		if h != "" {
			req.Header.Set("Authorization", h)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("Authorization %q: %d", h, resp.StatusCode)
		}
	}

	rec := `{"bk_process_id":900001,"bk_biz_id":2,"bk_set_env":"3","bk_set_name":"new","bk_module_name":"m","bk_process_name":"p"}`
	a := doAdmin(t, "POST", url+"/admin/upsert", token, `{"records":[`+rec+`]}`)
	var reply mutationReply
	if err := json.Unmarshal(a.env.Data, &reply); a.status != 200 || err != nil || reply.Changed != 1 || reply.Seq != 1 {
		t.Fatalf("upsert: %d %s", a.status, a.body)
	}
	if got := countOf(t, url); got != before+1 {
		t.Fatalf("after the upsert business 2 has %d processes, want %d", got, before+1)
	}
	a = doAdmin(t, "POST", url+"/admin/status", token, `{"updates":[{"bk_process_id":900001,"process_status":2,"is_auto":true},{"bk_process_id":5,"process_status":1,"is_auto":true}]}`)
	if err := json.Unmarshal(a.env.Data, &reply); a.status != 200 || err != nil || len(reply.Missing) != 1 || reply.Missing[0] != 5 {
		t.Fatalf("status: %d %s", a.status, a.body)
	}
	if r, _ := s.Engine().Record(900001); r.ProcessStatus != 2 || !r.IsAuto {
		t.Fatalf("record after status: %+v", r)
	}
	a = doAdmin(t, "POST", url+"/admin/apply", token, `{"op":"delete","bk_process_id":900001}
{"op":"upsert","record":`+strings.Replace(rec, "900001", "900002", 1)+`}
`)
	if a.status != 200 || countOf(t, url) != before+1 {
		t.Fatalf("apply: %d %s", a.status, a.body)
	}
	if _, ok := s.Engine().Record(900001); ok {
		t.Fatal("900001 still there after the apply")
	}

	for _, c := range []struct {
		method, path, body string
		status             int
		msg                string
	}{
		{"GET", "/admin/upsert", "", 405, "use POST"},
		{"POST", "/admin/store", "", 405, "use GET"},
		{"POST", "/admin/upsert", `{"records":[{"bk_process_id":0}]}`, 400, "bk_process_id must be > 0"},
		{"POST", "/admin/delete", `{"op":"upsert","record":{"bk_process_id":1}}`, 400, `op "upsert" where "delete" is expected`},
		{"POST", "/admin/apply", "{\"op\":\"delete\",\"bk_process_id\":1}\n{\"op\":\"nope\"}\n", 400, "body:2: invalid operation"},
		{"POST", "/admin/status", `{"updates":[{"bk_process_id":1}]}`, 400, "process_status is missing"},
		{"POST", "/admin/upsert", `{"records":[` + strings.Repeat(rec+",", 40) + rec + `]}`, 413, "larger than 4096 bytes"},
	} {
		a := doAdmin(t, c.method, url+c.path, token, c.body)
		if a.status != c.status || a.env.Result || !strings.Contains(a.env.Message, c.msg) {
			t.Errorf("%s %s %.60s: %d %s, want %d ...%s", c.method, c.path, c.body, a.status, a.body, c.status, c.msg)
		}
	}
	if got := countOf(t, url); got != before+1 {
		t.Fatalf("a refused request changed the data: %d processes, want %d", got, before+1)
	}

	a = doAdmin(t, "POST", url+"/admin/checkpoint", token, "")
	var ck struct {
		Seq     uint64
		Records int
	}
	if err := json.Unmarshal(a.env.Data, &ck); a.status != 200 || err != nil || ck.Seq != 3 || ck.Records != 301 {
		t.Fatalf("checkpoint: %d %s", a.status, a.body)
	}
	a = doAdmin(t, "GET", url+"/admin/store", token, "")
	var st struct {
		SnapshotSeq    uint64 `json:"snapshot_seq"`
		JournalEntries int    `json:"journal_entries"`
		Records        int
	}
	if err := json.Unmarshal(a.env.Data, &st); a.status != 200 || err != nil || st.SnapshotSeq != 3 || st.JournalEntries != 0 || st.Records != 301 {
		t.Fatalf("store: %d %s", a.status, a.body)
	}
	if a := do(t, "GET", url+"/healthz", ""); a.status != 200 || !strings.Contains(string(a.body), `"records":301`) ||
		!strings.Contains(string(a.body), `"source":"data-dir"`) || strings.Contains(string(a.body), "/data") {
		t.Fatalf("healthz: %d %s", a.status, a.body)
	}
	if a := do(t, "GET", url+"/metrics", ""); !strings.Contains(string(a.body), `procq_mutations_total{endpoint="upsert",result="ok"} 1`) ||
		!strings.Contains(string(a.body), "procq_data_version 5") ||
		!strings.Contains(string(a.body), "procq_merges_total 0") || !strings.Contains(string(a.body), "procq_delta_records ") ||
		!strings.Contains(string(a.body), "procq_merge_last_build_seconds 0") {
		t.Errorf("metrics lack the mutation counters:\n%s", a.body)
	}
	// A reload of a data directory changes nothing.
	if info, err := s.Reload(); err != nil || info.Records != 301 {
		t.Fatalf("reload: %+v, %v", info, err)
	}
}

func TestMutationsNeedLoopbackWithoutToken(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "data")
	if err := store.Init(dir, ""); err != nil {
		t.Fatal(err)
	}
	s, _ := newTestServer(Config{DataDir: dir})
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Skip("cannot listen on 0.0.0.0:", err)
	}
	defer ln.Close()
	if err := s.Run(context.Background(), ln, nil); !errors.Is(err, ErrAdminUnprotected) {
		t.Fatalf("Run on %s without a token: %v", ln.Addr(), err)
	}

	// On loopback they are open.
	s, srv := newDataDirServer(t, Config{}, 50)
	if a := doAdmin(t, "POST", srv.URL+"/admin/delete", "", `{"bk_process_ids":[1]}`); a.status != 200 {
		t.Fatalf("delete on loopback without a token: %d %s", a.status, a.body)
	}
	if err := s.access.checkListener(&net.TCPAddr{IP: net.IPv6loopback}, s.adminServed()); err != nil {
		t.Fatal(err)
	}
}

func TestRunServesDataDir(t *testing.T) {
	tmp := t.TempDir()
	snap := filepath.Join(tmp, "a.snap")
	writeSnapshot(t, snap, 100, 1)
	dir := filepath.Join(tmp, "data")
	if err := store.Init(dir, snap); err != nil {
		t.Fatal(err)
	}
	run := func(body func(url string)) {
		s, _ := newTestServer(Config{DataDir: dir, AdminToken: "t"})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		ready := make(chan *LoadInfo, 1)
		ran := make(chan error, 1)
		go func() { ran <- s.Run(ctx, ln, func(i *LoadInfo) { ready <- i }) }()
		select {
		case <-ready:
		case err := <-ran:
			t.Fatalf("Run: %v", err)
		}
		body("http://" + ln.Addr().String())
		cancel()
		if err := <-ran; err != nil {
			t.Fatalf("Run: %v", err)
		}
	}
	var n int
	run(func(url string) {
		n = countOf(t, url)
		if a := doAdmin(t, "POST", url+"/admin/upsert", "t", `{"record":{"bk_process_id":99999999,"bk_biz_id":2}}`); a.status != 200 {
			t.Fatalf("upsert: %d %s", a.status, a.body)
		}
	})
	// Run closed the data directory on the way out; the write is there
	// when it serves it again.
	run(func(url string) {
		if got := countOf(t, url); got != n+1 {
			t.Fatalf("after a restart business 2 has %d processes, want %d", got, n+1)
		}
	})
}

// TestMutationMissingBounded: an answer counts every missing id but lists
// only the first maxMissingListed, in the order of the batch.
func TestMutationMissingBounded(t *testing.T) {
	_, srv := newDataDirServer(t, Config{}, 50)
	for _, c := range []struct {
		ids       int
		count     int
		listed    int
		firstID   int64
		endpoint  string
		bodyStart string
	}{
		{0, 0, 0, 0, "/admin/delete", `{"bk_process_ids":[`},
		{3, 3, 3, 1 << 40, "/admin/delete", `{"bk_process_ids":[`},
		{500, 500, maxMissingListed, 1 << 40, "/admin/delete", `{"bk_process_ids":[`},
	} {
		ids := make([]string, c.ids)
		for i := range ids {
			ids[i] = fmt.Sprint(int64(1<<40) + int64(i))
		}
		a := doAdmin(t, "POST", srv.URL+c.endpoint, "", c.bodyStart+strings.Join(ids, ",")+"]}")
		var reply struct {
			MissingCount *int    `json:"missing_count"`
			Missing      []int64 `json:"missing"`
		}
		if err := json.Unmarshal(a.env.Data, &reply); err != nil || a.status != 200 || reply.MissingCount == nil {
			t.Fatalf("%d ids: %d %s", c.ids, a.status, a.body)
		}
		if *reply.MissingCount != c.count || len(reply.Missing) != c.listed || reply.Missing == nil ||
			(c.listed > 0 && reply.Missing[0] != c.firstID) {
			t.Errorf("%d missing ids: missing_count %d, listed %v", c.ids, *reply.MissingCount, reply.Missing)
		}
	}
}

// TestMutationErrorsHideAddresses: a body that fails to read answers 400
// without the error's text, which names the peer.
func TestMutationErrorsHideAddresses(t *testing.T) {
	s, _ := newDataDirServer(t, Config{}, 20)
	for _, p := range []string{"/admin/apply", "/admin/upsert"} {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest("POST", p, io.NopCloser(failingBody{})))
		if rec.Code != 400 || strings.Contains(rec.Body.String(), "10.9.8.7") || !strings.Contains(rec.Body.String(), "reading request body failed") {
			t.Errorf("%s with a failing body: %d %s", p, rec.Code, rec.Body)
		}
	}
}

// failingBody is a request body whose read fails with an error naming a
// peer.
type failingBody struct{}

func (failingBody) Read([]byte) (int, error) {
	return 0, errors.New("read tcp 127.0.0.1:8080->10.9.8.7:41234: i/o timeout")
}
