package workload

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/procq/procq/api"
)

// fakeDoer answers at once, counting calls: "bad" is rejected by the
// API, "fail" fails unexpectedly, anything else succeeds.
type fakeDoer struct{ calls atomic.Int64 }

func (d *fakeDoer) Do(ctx context.Context, body []byte) ([]byte, error) {
	d.calls.Add(1)
	switch string(body) {
	case "bad":
		return []byte(`{"result":false,"code":4100001,"message":"x","data":null}`), &api.Error{Code: 4100001, Message: "x"}
	case "fail":
		return []byte(`{"result":false,"code":500,"message":"x","data":null}`), errors.New("boom")
	}
	return []byte(`{"result":true,"code":0,"message":"","data":{"count":7,"list":[]}}`), nil
}

func reqs(bodies ...string) []Request {
	var out []Request
	for i, b := range bodies {
		out = append(out, Request{Line: i + 1, Body: []byte(b)})
	}
	return out
}

// TestInProcess checks counts, indexes, codes and the answered/failed
// split, closed and open loop.
func TestInProcess(t *testing.T) {
	for _, plan := range []Plan{
		{Concurrency: 3, Count: 30, KeepBodies: true},
		{Concurrency: 2, Count: 30, Rate: 100_000, KeepBodies: true},
		{Concurrency: 1, Count: 30, Rate: 2.5e5 + 0.5, KeepBodies: true},
	} {
		d := &fakeDoer{}
		perIndex := make([]int, 3)
		codes := map[int]int{}
		var progress int
		plan.Progress = func(done, total int) { progress = done }
		st, err := NewInProcess(d).Run(context.Background(), reqs("ok", "bad", "fail"), plan, func(s *Sample) {
			perIndex[s.Index]++
			codes[s.Code]++
			if s.Index == 0 && !strings.Contains(string(s.Body), `"count":7`) {
				t.Errorf("body %q", s.Body)
			}
			if (s.Err == "") != s.Answered() {
				t.Errorf("sample %+v: Err and Answered disagree", s)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if st.Sent != 30 || d.calls.Load() != 30 || st.Answered != 20 || st.Failed != 10 || progress != 30 {
			t.Errorf("%+v: sent %d, calls %d, answered %d, failed %d, progress %d", plan, st.Sent, d.calls.Load(), st.Answered, st.Failed, progress)
		}
		if !slices.Equal(perIndex, []int{10, 10, 10}) || codes[0] != 10 || codes[4100001] != 10 || codes[api.CodeInternal] != 10 {
			t.Errorf("per index %v, codes %v", perIndex, codes)
		}
		if st.Statuses[200] != 10 || st.Statuses[400] != 10 || st.Statuses[500] != 10 || len(st.Errors) != 1 {
			t.Errorf("statuses %v, errors %q", st.Statuses, st.Errors)
		}
		if !(st.P50 <= st.P90 && st.P90 <= st.P99 && st.P99 <= st.Max && st.Max > 0) || st.Throughput() <= 0 {
			t.Errorf("latencies %v %v %v %v, throughput %v", st.P50, st.P90, st.P99, st.Max, st.Throughput())
		}
		if o := st.Open; plan.Rate > 0 && !(o.P50 <= o.P90 && o.P90 <= o.P99 && o.P99 <= o.Max && o.Max >= st.Max) {
			t.Errorf("open loop: latencies from due %+v, from sent max %v", o, st.Max)
		} else if plan.Rate == 0 && o != (Quantiles{}) {
			t.Errorf("closed loop: latencies from due %+v", o)
		}
	}
}

// TestBounds checks the count, duration and context bounds and the plan
// checks.
func TestBounds(t *testing.T) {
	d := &fakeDoer{}
	in := NewInProcess(d)
	st, err := in.Run(context.Background(), reqs("a", "b"), Plan{Concurrency: 1}, nil)
	if err != nil || st.Sent != 2 || st.Planned != 2 {
		t.Errorf("count 0 sends each request once: %+v %v", st, err)
	}
	d.calls.Store(0)
	st, err = in.Run(context.Background(), reqs("a"), Plan{Concurrency: 4, Count: 1000, Duration: time.Nanosecond}, nil)
	if err != nil || st.Sent >= 1000 || int64(st.Sent) != d.calls.Load() {
		t.Errorf("duration bound: %+v, calls %d, %v", st, d.calls.Load(), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := in.Run(ctx, reqs("a"), Plan{Concurrency: 1, Count: 1000}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if st, err := in.Run(context.Background(), nil, Plan{Concurrency: 1, Count: 5}, nil); err != nil || st.Sent != 0 {
		t.Errorf("empty list: %+v %v", st, err)
	}
	for _, p := range []Plan{{}, {Concurrency: MaxConcurrency + 1}, {Concurrency: 1, Rate: -1},
		{Concurrency: 1, Count: -1}, {Concurrency: 1, Count: MaxCount + 1}, {Concurrency: 1, Duration: time.Hour}} {
		if _, err := in.Run(context.Background(), reqs("a"), p, nil); !errors.Is(err, ErrPlan) {
			t.Errorf("plan %+v: %v", p, err)
		}
	}
}

// TestHTTP posts to a test server that answers 200, 400 or 500 by body:
// the 500s are failures, counted apart from the latencies.
func TestHTTP(t *testing.T) {
	var posts atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		var b [8]byte
		n, _ := r.Body.Read(b[:])
		switch string(b[:n]) {
		case "bad":
			w.WriteHeader(http.StatusBadRequest)
		case "fail":
			w.WriteHeader(http.StatusInternalServerError)
		}
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	h, err := NewHTTP(srv.URL, "/p", 2)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if h.URL() != srv.URL+"/p" {
		t.Errorf("URL %s", h.URL())
	}
	st, err := h.Run(context.Background(), reqs("ok", "bad", "fail"), Plan{Concurrency: 2, Count: 9}, func(s *Sample) {
		if s.Index != -1 || len(s.Body) != 0 {
			t.Errorf("HTTP sample %+v", s)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Sent != 9 || posts.Load() != 9 || st.Answered != 6 || st.Failed != 3 || st.Statuses[500] != 3 ||
		!strings.Contains(st.StatusText(), "200:3 400:3 500:3 (first error: 500 Internal Server Error)") {
		t.Errorf("stats %+v, %s", st, st.StatusText())
	}
}

// TestHTTPClosedPort sends to a port nobody listens on: every request
// fails, none is answered, and no latency is reported.
func TestHTTPClosedPort(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	h, err := NewHTTP("http://"+addr, "/p", 4)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	st, err := h.Run(context.Background(), reqs("a"), Plan{Concurrency: 4, Count: 50}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Sent != 50 || st.Failed != 50 || st.Answered != 0 || st.Statuses[0] != 50 || len(st.Errors) == 0 {
		t.Errorf("stats %+v", st)
	}
	if st.P50 != 0 || st.P99 != 0 || st.Max != 0 || st.Throughput() != 0 {
		t.Errorf("latency of failed requests reported: %+v", st)
	}
}

func TestLoopbackURL(t *testing.T) {
	for raw, want := range map[string]string{
		"http://127.0.0.1:8080":                "http://127.0.0.1:8080/p",
		"http://localhost:9/":                  "http://localhost:9/p",
		"http://[::1]:8080/x":                  "http://[::1]:8080/x",
		"http://10.0.0.1:8080":                 "",
		"http://example.com/":                  "",
		"https://127.0.0.1:8080":               "",
		"http://127.0.0.1.example.com:80/path": "",
		"http://0.0.0.0:8080":                  "",
		"::":                                   "",
	} {
		got, err := LoopbackURL(raw, "/p")
		if (err == nil) != (want != "") || got != want {
			t.Errorf("LoopbackURL(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
	if _, err := NewHTTP("http://example.com", "/p", 1); !errors.Is(err, ErrNotLoopback) {
		t.Errorf("NewHTTP(example.com): %v", err)
	}
}

func TestReadLog(t *testing.T) {
	got, err := ReadLog(strings.NewReader("{\"a\":1}\n\n  {\"b\":2}  \r\n{\"c\":3}"), "log")
	want := []Request{{1, []byte(`{"a":1}`)}, {3, []byte(`{"b":2}`)}, {4, []byte(`{"c":3}`)}}
	if err != nil || !slices.EqualFunc(got, want, func(a, b Request) bool { return a.Line == b.Line && string(a.Body) == string(b.Body) }) {
		t.Errorf("ReadLog: %+v %v", got, err)
	}
}

func FuzzReadLog(f *testing.F) {
	f.Add([]byte("{\"a\":1}\n\n {\"b\":2}\r\n"))
	f.Add([]byte("\n\n\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := ReadLog(strings.NewReader(string(in)), "f")
		if err != nil {
			t.Fatal(err)
		}
		last := 0
		for _, r := range got {
			if r.Line <= last || len(r.Body) == 0 || strings.TrimSpace(string(r.Body)) != string(r.Body) {
				t.Fatalf("request %+v after line %d", r, last)
			}
			last = r.Line
		}
	})
}

// TestSinceDue checks the latency of an open loop's request from when it
// was due: its wait for a worker counts, and it is never below the
// latency from when it was sent.
func TestSinceDue(t *testing.T) {
	start := time.Unix(1000, 0)
	ms := time.Millisecond
	for _, tc := range []struct {
		seq           uint64
		sent, latency time.Duration // sent: since start
		want          time.Duration
	}{
		{seq: 0, sent: 10 * ms, latency: 2 * ms, want: 2 * ms},   // due at 10 ms, sent on time
		{seq: 9, sent: 100 * ms, latency: 3 * ms, want: 3 * ms},  // due at 100 ms
		{seq: 9, sent: 130 * ms, latency: 3 * ms, want: 33 * ms}, // waited 30 ms for a worker
		{seq: 99, sent: 500 * ms, latency: 1 * ms, want: 1 * ms}, // sent before it was due: its own latency
		{seq: 4, sent: 1050 * ms, latency: 0, want: 1000 * ms},   // a second late
	} {
		res := &vegeta.Result{Seq: tc.seq, Timestamp: start.Add(tc.sent), Latency: tc.latency}
		if got := sinceDue(start, 10*ms, res); got != tc.want {
			t.Errorf("seq %d sent %v latency %v: %v since due, want %v", tc.seq, tc.sent, tc.latency, got, tc.want)
		}
	}
	if got := pacer(Plan{Rate: 2.5}, 10).interval(); got != 400*ms {
		t.Errorf("interval at 2.5/s: %v, want 400ms", got)
	}
	if got := pacer(Plan{}, 10).interval(); got != 0 {
		t.Errorf("interval of a closed loop: %v, want 0", got)
	}
}

// TestSustained checks when an open loop counts as having kept its rate:
// 99% of the requests due sent, 99% of those on time.
func TestSustained(t *testing.T) {
	for _, tc := range []struct {
		st   Stats
		want bool
	}{
		{Stats{Sent: 50}, true},                           // closed loop
		{Stats{Due: 1000, Sent: 1000}, true},              // all sent on time
		{Stats{Due: 1000, Sent: 990, Late: 9}, true},      // at the bounds
		{Stats{Due: 1000, Sent: 989}, false},              // too few sent
		{Stats{Due: 1000, Sent: 1000, Late: 11}, false},   // too many late
		{Stats{Due: 1000, Sent: 1000, Late: 1000}, false}, // all late
	} {
		if got := tc.st.Sustained(); got != tc.want {
			t.Errorf("due %d sent %d late %d: sustained %v, want %v", tc.st.Due, tc.st.Sent, tc.st.Late, got, tc.want)
		}
	}
	ms := time.Millisecond
	for _, tc := range []struct {
		plan    Plan
		planned int
		want    int
	}{
		{Plan{Rate: 100}, 30, 30},                           // no duration: the count
		{Plan{Rate: 100, Duration: time.Second}, 1000, 100}, // the duration ends it first
		{Plan{Rate: 2.5, Duration: 2 * time.Second}, 1000, 5},
		{Plan{Rate: 1e5, Duration: 10 * ms}, 30, 30}, // the count ends it first
	} {
		if got := dueWithin(tc.plan, tc.planned); got != tc.want {
			t.Errorf("%+v, %d planned: %d due, want %d", tc.plan, tc.planned, got, tc.want)
		}
	}
	var st Stats
	for _, lag := range []time.Duration{0, ms, ms + 1, 30 * ms, -ms} {
		st.lag(lag)
	}
	if st.Late != 2 || st.MaxLag != 30*ms {
		t.Errorf("late %d, max lag %v; want 2 over %v, and 30ms", st.Late, st.MaxLag, LateAfter)
	}
}
