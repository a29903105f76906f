package gsekit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/procq/procq/api"
	"github.com/procq/procq/engine"
	"github.com/procq/procq/gsekit"
	"github.com/procq/procq/internal/synth"
)

// demoRequest is docs/demo-request.json: an expression scope with a
// suffix glob and a slice, a status filter, a search, a two-key ordering
// and a projection.
const demoRequest = `{
  "bk_biz_id": 2,
  "expression_scope": {"bk_set_env": "3", "service_instance_name": "*_gse_agent*", "bk_process_id": "[0:100]"},
  "process_status_list": [1],
  "searches": ["10.0"],
  "ordering": "-bk_host_innerip,bk_process_name",
  "fields": ["bk_process_id", "bk_set_name", "bk_module_name", "bk_service_name", "bk_process_name", "bk_host_innerip", "process_status"],
  "page": 1,
  "pagesize": 3
}`

// synthEngine builds an engine over the synthetic data set of n processes
// made with seed.
func synthEngine(t testing.TB, n int, seed int64) *engine.Engine {
	t.Helper()
	recs, err := synth.Collect(synth.Options{Processes: n, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(recs)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// envelope is the decoded response envelope.
type envelope struct {
	Result  bool   `json:"result"`
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    *struct {
		Count int               `json:"count"`
		List  []json.RawMessage `json:"list"`
	} `json:"data"`
}

// post sends body to url and returns the status, the body and the
// Content-Type.
func post(t testing.TB, url, body string) (int, []byte, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b, resp.Header.Get("Content-Type")
}

// postWithID is post with an X-Request-Id header; it reports failures
// instead of stopping the test, so client goroutines may call it.
func postWithID(url, body, id string) (int, []byte, error) {
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("X-Request-Id", id)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func decode(t testing.TB, b []byte) envelope {
	t.Helper()
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("response is not an envelope: %v\n%s", err, b)
	}
	return env
}

func TestHTTPSpecRequest(t *testing.T) {
	e := synthEngine(t, 5000, 1)
	srv := httptest.NewServer(gsekit.Route(gsekit.NewHandler(engine.NewLive(e).Load, gsekit.HandlerOptions{}), nil))
	defer srv.Close()

	want, err := e.Do(context.Background(), []byte(demoRequest))
	if err != nil {
		t.Fatal(err)
	}
	status, got, ctype := post(t, srv.URL+gsekit.Path, demoRequest)
	if status != http.StatusOK || ctype != "application/json" {
		t.Errorf("status %d, Content-Type %q; want 200 application/json", status, ctype)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("HTTP answer differs from Do:\n got %s\nwant %s", got, want)
	}
	env := decode(t, got)
	if !env.Result || env.Code != 0 || env.Data == nil || env.Data.Count == 0 || len(env.Data.List) != 3 {
		t.Errorf("want a full page of 3 of a non-zero count, got %s", got)
	}
}

func TestHTTPErrors(t *testing.T) {
	e := synthEngine(t, 500, 1)
	srv := httptest.NewServer(gsekit.Route(gsekit.NewHandler(engine.NewLive(e).Load, gsekit.HandlerOptions{MaxBodyBytes: 4096}), nil))
	defer srv.Close()
	big := `{"bk_biz_id":2,"scope":{},"page":1,"pagesize":1,"pad":"` + strings.Repeat("x", 5000) + `"}`

	for _, tc := range []struct {
		name, method, path, body string
		status, code             int
		msg                      string // a part of the message
	}{
		{"validation", "POST", gsekit.Path, `{"bk_biz_id":2,"scope":{},"pagesize":10}`, 400, api.CodeValidation, "page"},
		{"malformed JSON", "POST", gsekit.Path, `{"bk_biz_id":`, 400, api.CodeValidation, ""},
		{"not an object", "POST", gsekit.Path, `[1]`, 400, api.CodeValidation, ""},
		{"empty body", "POST", gsekit.Path, ``, 400, api.CodeValidation, ""},
		{"expression", "POST", gsekit.Path, `{"bk_biz_id":2,"expression_scope":{"bk_set_env":"3","bk_set_name":"[abc"},"page":1,"pagesize":10}`, 400, api.CodeExprSyntax, "bk_set_name"},
		{"slice", "POST", gsekit.Path, `{"bk_biz_id":2,"expression_scope":{"bk_set_env":"3","bk_process_id":"[0:3]x"},"page":1,"pagesize":10}`, 400, api.CodeSlice, "bk_process_id"},
		{"oversized", "POST", gsekit.Path, big, 413, api.CodeValidation, "4096"},
		{"GET", "GET", gsekit.Path, ``, 405, api.CodeMethodNotAllowed, "POST"},
		{"PUT", "PUT", gsekit.Path, `{}`, 405, api.CodeMethodNotAllowed, "POST"},
		{"unknown path", "POST", "/v2/gsekit/api/process/other/", `{}`, 404, api.CodeNotFound, "/v2/gsekit/api/process/other/"},
		{"longer path", "POST", gsekit.Path + "x", `{}`, 404, api.CodeNotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tc.status, b)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if tc.status == 405 && resp.Header.Get("Allow") != "POST" {
				t.Errorf("Allow %q, want POST", resp.Header.Get("Allow"))
			}
			env := decode(t, b)
			if env.Result || env.Code != tc.code || env.Message == "" || env.Data != nil || !strings.Contains(string(b), `"data":null`) {
				t.Errorf("want result false, code %d, a message and data null; got %s", tc.code, b)
			}
			if !strings.Contains(env.Message, tc.msg) {
				t.Errorf("message %q does not name %q", env.Message, tc.msg)
			}
		})
	}
}

func TestHTTPPathVariants(t *testing.T) {
	e := synthEngine(t, 500, 1)
	srv := httptest.NewServer(gsekit.Route(gsekit.NewHandler(engine.NewLive(e).Load, gsekit.HandlerOptions{}), nil))
	defer srv.Close()
	want, _ := e.Do(context.Background(), []byte(demoRequest))
	for _, p := range []string{
		"/v2/gsekit/api/process/process_status/",
		"//v2/gsekit/api/process/process_status/",
		"/v2/gsekit/api/process/process_status",
		"//v2/gsekit/api/process/process_status",
	} {
		status, got, _ := post(t, srv.URL+p, demoRequest)
		if status != 200 || !bytes.Equal(got, want) {
			t.Errorf("%s: status %d, body %s", p, status, got)
		}
	}
	for _, p := range []string{"///v2/gsekit/api/process/process_status/", "/v2/gsekit/api/process/process_status//", "/"} {
		if status, _, _ := post(t, srv.URL+p, demoRequest); status != 404 {
			t.Errorf("%s: status %d, want 404", p, status)
		}
	}
}

func TestHTTPAuthorize(t *testing.T) {
	e := synthEngine(t, 500, 1)
	var mu sync.Mutex
	var asked []string
	h := gsekit.NewHandler(engine.NewLive(e).Load, gsekit.HandlerOptions{
		Authorize: func(code, secret string) bool {
			mu.Lock()
			asked = append(asked, code+":"+secret)
			mu.Unlock()
			return code == "gsekit" && secret == "s3cret"
		},
	})
	srv := httptest.NewServer(gsekit.Route(h, nil))
	defer srv.Close()
	base := `{"bk_biz_id":2,"scope":{"bk_set_env":"0"},"page":1,"pagesize":1`
	for _, tc := range []struct {
		name, creds string
		status      int
	}{
		{"good", `,"bk_app_code":"gsekit","bk_app_secret":"s3cret"`, 200},
		{"wrong secret", `,"bk_app_code":"gsekit","bk_app_secret":"guess"`, 401},
		{"unknown app", `,"bk_app_code":"other","bk_app_secret":"s3cret"`, 401},
		{"missing", ``, 401},
		{"not strings", `,"bk_app_code":1,"bk_app_secret":true`, 401},
	} {
		status, b, _ := post(t, srv.URL+gsekit.Path, base+tc.creds+"}")
		if status != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.name, status, tc.status, b)
		}
		if env := decode(t, b); status == 401 && (env.Result || env.Code != api.CodeUnauthorized || env.Data != nil) {
			t.Errorf("%s: want the error envelope with code 401, got %s", tc.name, b)
		}
		if strings.Contains(string(b), "s3cret") || strings.Contains(string(b), "guess") {
			t.Errorf("%s: the answer shows a secret: %s", tc.name, b)
		}
	}
	if want := []string{"gsekit:s3cret", "gsekit:guess", "other:s3cret", ":", ":"}; fmt.Sprint(asked) != fmt.Sprint(want) {
		t.Errorf("Authorize was asked %q, want %q", asked, want)
	}
	// Authentication comes first: a bad request without credentials is a 401.
	if status, _, _ := post(t, srv.URL+gsekit.Path, `{"bk_biz_id":2}`); status != 401 {
		t.Errorf("invalid unauthenticated request: status %d, want 401", status)
	}
}

func TestHTTPPanicRecovered(t *testing.T) {
	e := synthEngine(t, 500, 1)
	var boom sync.Once
	src := func() *engine.Engine {
		panicked := false
		boom.Do(func() { panicked = true })
		if panicked {
			panic("injected failure")
		}
		return e
	}
	outcomes := make(chan *gsekit.Outcome, 2)
	h := gsekit.NewHandler(src, gsekit.HandlerOptions{Observe: func(_ *http.Request, o *gsekit.Outcome) { outcomes <- o }})
	srv := httptest.NewServer(gsekit.Route(h, nil))
	defer srv.Close()

	status, b, ctype := post(t, srv.URL+gsekit.Path, demoRequest)
	env := decode(t, b)
	if status != 500 || ctype != "application/json" || env.Result || env.Code != api.CodeInternal || env.Data != nil {
		t.Errorf("panic: status %d, body %s; want 500 with the error envelope", status, b)
	}
	if strings.Contains(string(b), "goroutine") || strings.Contains(string(b), "injected") || strings.Contains(string(b), ".go:") {
		t.Errorf("the answer leaks the panic: %s", b)
	}
	o := <-outcomes
	if o.Status != 500 || len(o.Stack) == 0 || o.Err == nil || !strings.Contains(o.Err.Error(), "injected failure") {
		t.Errorf("outcome of the panic: %+v", o)
	}
	// The server lives on.
	if status, _, _ := post(t, srv.URL+gsekit.Path, demoRequest); status != 200 {
		t.Errorf("after the panic: status %d, want 200", status)
	}
	if o := <-outcomes; o.Status != 200 || o.Code != 0 || o.Err != nil || o.Engine != e || o.Bytes == 0 {
		t.Errorf("outcome of a success: %+v", o)
	}
}

func TestHTTPUnavailable(t *testing.T) {
	live := engine.NewLive(nil)
	srv := httptest.NewServer(gsekit.Route(gsekit.NewHandler(live.Load, gsekit.HandlerOptions{}), nil))
	defer srv.Close()
	status, b, _ := post(t, srv.URL+gsekit.Path, demoRequest)
	if env := decode(t, b); status != 503 || env.Code != api.CodeUnavailable || env.Result {
		t.Errorf("no engine: status %d, body %s; want 503", status, b)
	}
	live.Store(synthEngine(t, 500, 1))
	if status, b, _ := post(t, srv.URL+gsekit.Path, demoRequest); status != 200 {
		t.Errorf("after Store: status %d, body %s", status, b)
	}
}

func TestHTTPCanceledQuery(t *testing.T) {
	e := synthEngine(t, 500, 1)
	h := gsekit.NewHandler(engine.NewLive(e).Load, gsekit.HandlerOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, "POST", gsekit.Path, strings.NewReader(demoRequest))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if env := decode(t, rec.Body.Bytes()); rec.Code != 503 || env.Code != api.CodeUnavailable {
		t.Errorf("canceled query: status %d, body %s; want 503", rec.Code, rec.Body)
	}
}

// TestHTTPConcurrentSwap queries from many clients while the engine is
// swapped back and forth between two data sets that answer the same
// requests differently: every answer must be exactly one data set's
// answer, never a mix, and must agree with the engine that gave it.
func TestHTTPConcurrentSwap(t *testing.T) {
	a, b := synthEngine(t, 600, 1), synthEngine(t, 900, 2)
	reqs := []string{
		`{"bk_biz_id":2,"scope":{"bk_set_env":"0"},"fields":["bk_process_id"],"page":1,"pagesize":1000}`,
		`{"bk_biz_id":2,"scope":{"bk_set_env":"0"},"ordering":"-bk_host_innerip","page":2,"pagesize":7}`,
		demoRequest,
	}
	type answers struct{ a, b []byte }
	want := make([]answers, len(reqs))
	for i, r := range reqs {
		wa, errA := a.Do(context.Background(), []byte(r))
		wb, errB := b.Do(context.Background(), []byte(r))
		if errA != nil || errB != nil {
			t.Fatal(errA, errB)
		}
		want[i] = answers{wa, wb}
	}
	if ea, eb := decode(t, want[0].a), decode(t, want[0].b); ea.Data.Count == eb.Data.Count {
		t.Fatalf("the two data sets must differ in count, both have %d", ea.Data.Count)
	}

	live := engine.NewLive(a)
	var mu sync.Mutex
	answeredBy := map[string]*engine.Engine{} // by X-Request-Id
	h := gsekit.NewHandler(live.Load, gsekit.HandlerOptions{Observe: func(r *http.Request, o *gsekit.Outcome) {
		mu.Lock()
		answeredBy[r.Header.Get("X-Request-Id")] = o.Engine
		mu.Unlock()
	}})
	srv := httptest.NewServer(gsekit.Route(h, nil))
	defer srv.Close()

	// Every answer nudges the swapper, so swaps interleave with queries.
	nudge := make(chan struct{}, 1)
	swapperDone := make(chan int)
	go func() {
		swaps := 0
		for range nudge {
			if live.Load() == a {
				live.Store(b)
			} else {
				live.Store(a)
			}
			swaps++
		}
		swapperDone <- swaps
	}()

	const clients, perClient = 16, 40
	var seenA, seenB, bad int
	gotA := map[string]bool{} // by X-Request-Id: answered as data set A
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := range perClient {
				k := (c + i) % len(reqs)
				id := fmt.Sprintf("%d-%d", c, i)
				status, got, err := postWithID(srv.URL+gsekit.Path, reqs[k], id)
				isA, isB := bytes.Equal(got, want[k].a), bytes.Equal(got, want[k].b)
				var env envelope
				_ = json.Unmarshal(got, &env)
				mu.Lock()
				switch {
				case err != nil:
					t.Errorf("request %s: %v", id, err)
				case status != 200 || isA == isB:
					bad++
					if bad <= 3 {
						t.Errorf("request %d: status %d, answer matches neither data set: %.300s", k, status, got)
					}
				case isA:
					seenA++
					gotA[id] = true
				default:
					seenB++
				}
				if k == 0 && env.Data != nil && env.Data.Count != len(env.Data.List) {
					t.Errorf("count %d but %d items", env.Data.Count, len(env.Data.List))
				}
				mu.Unlock()
				select {
				case nudge <- struct{}{}:
				default:
				}
			}
		})
	}
	wg.Wait()
	// The handler observes an answer after writing it: Close waits for
	// the handlers still running, so every observation is in.
	srv.Close()
	close(nudge)
	swaps := <-swapperDone
	if seenA == 0 || seenB == 0 || swaps == 0 {
		t.Errorf("answers by data set: %d and %d after %d swaps; want both", seenA, seenB, swaps)
	}
	if len(answeredBy) != clients*perClient {
		t.Errorf("observed %d requests, want %d", len(answeredBy), clients*perClient)
	}
	for id, e := range answeredBy {
		if (e == a) != gotA[id] {
			t.Errorf("request %s: the answer is not that of the engine that gave it", id)
		}
	}
	t.Logf("%d answers from data set A, %d from B, %d swaps", seenA, seenB, swaps)
}

func TestIsPath(t *testing.T) {
	for p, want := range map[string]bool{
		gsekit.Path: true,
		"//v2/gsekit/api/process/process_status/": true,
		"/v2/gsekit/api/process/process_status":   true,
		"//v2/gsekit/api/process/process_status":  true,
		"/v2/gsekit/api/process/process_status//": false,
		"///v2/gsekit/api/process/process_status": false,
		"/v2/gsekit/api/process/":                 false,
		"":                                        false,
	} {
		if got := gsekit.IsPath(p); got != want {
			t.Errorf("IsPath(%q) = %v, want %v", p, got, want)
		}
	}
}

// TestRouteDotSegments: a path with a "." or ".." segment answers 404 with
// the envelope, never the empty redirect of http.ServeMux, and never
// reaches next.
func TestRouteDotSegments(t *testing.T) {
	e := synthEngine(t, 100, 1)
	reached := false
	mux := http.NewServeMux()
	mux.HandleFunc("/admin/reload", func(http.ResponseWriter, *http.Request) { reached = true })
	h := gsekit.Route(gsekit.NewHandler(engine.NewLive(e).Load, gsekit.HandlerOptions{}), mux)
	for _, p := range []string{
		"/v2/../admin/reload",
		"/a/../b",
		"/./admin/reload",
		"/admin/reload/..",
		"/v2/gsekit/api/process/../process/process_status/",
		"//v2/gsekit/api/./process/process_status",
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", p, strings.NewReader(demoRequest)))
		env := decode(t, rec.Body.Bytes())
		if rec.Code != 404 || env.Code != api.CodeNotFound || env.Result || rec.Header().Get("Location") != "" || reached {
			t.Errorf("%s: %d %s (Location %q), want a 404 envelope", p, rec.Code, rec.Body, rec.Header().Get("Location"))
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/admin/reload", nil))
	if rec.Code != 200 || !reached {
		t.Errorf("/admin/reload: %d, reached %v", rec.Code, reached)
	}
}

// errBody is a request body whose read fails with an error naming a peer.
type errBody struct{}

func (errBody) Read([]byte) (int, error) {
	return 0, errors.New("read tcp 127.0.0.1:8080->10.9.8.7:41234: connection reset by peer")
}

// TestHTTPErrorsHideAddresses: a failed body read answers 400 without the
// error's text, which names the peer; Observe gets the error.
func TestHTTPErrorsHideAddresses(t *testing.T) {
	e := synthEngine(t, 100, 1)
	var got *gsekit.Outcome
	h := gsekit.NewHandler(engine.NewLive(e).Load, gsekit.HandlerOptions{Observe: func(_ *http.Request, o *gsekit.Outcome) { got = o }})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", gsekit.Path, io.NopCloser(errBody{})))
	env := decode(t, rec.Body.Bytes())
	if rec.Code != 400 || env.Code != api.CodeValidation || strings.Contains(rec.Body.String(), "10.9.8.7") || strings.Contains(rec.Body.String(), "tcp") {
		t.Errorf("failed read: %d %s", rec.Code, rec.Body)
	}
	if got == nil || got.Err == nil || !strings.Contains(got.Err.Error(), "10.9.8.7") {
		t.Errorf("Observe did not get the read error: %+v", got)
	}
}

// TestHTTPClientGoneCancelsQuery: when the client closes its connection,
// the request's context ends and engine.Do gets it: the query stops with
// context.Canceled. The handler starts only after the client is gone, so
// the test needs no timing.
func TestHTTPClientGoneCancelsQuery(t *testing.T) {
	e := synthEngine(t, 500, 1)
	outcomes := make(chan *gsekit.Outcome, 1)
	h := gsekit.NewHandler(engine.NewLive(e).Load, gsekit.HandlerOptions{
		Observe: func(_ *http.Request, o *gsekit.Outcome) { outcomes <- o },
	})
	arrived := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read the body first: the server notices a closed connection
		// only once the body is consumed.
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
		}
		close(arrived)
		<-r.Context().Done()
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+gsekit.Path, strings.NewReader(demoRequest))
	sent := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		sent <- err
	}()
	<-arrived
	cancel() // the client goes away
	if err := <-sent; !errors.Is(err, context.Canceled) {
		t.Errorf("client: %v", err)
	}
	o := <-outcomes
	if o.Engine != e || !errors.Is(o.Err, context.Canceled) || o.Status != 503 || o.Code != api.CodeUnavailable {
		t.Errorf("outcome of a query whose client went away: %+v", o)
	}
}
