package replay

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/procq/procq/api"
	"github.com/procq/procq/engine"
	"github.com/procq/procq/internal/synth"
)

func testEngine(t *testing.T, n int, seed int64) *engine.Engine {
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

func testLog(t *testing.T, n int, seed int64, count int) []Request {
	t.Helper()
	bodies, err := synth.Requests(synth.Options{Processes: n, Seed: seed}, count, seed)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	for _, b := range bodies {
		log.Write(b)
		log.WriteString("\n")
	}
	// A blank line, a malformed request and one with a syntax error.
	log.WriteString("\n{not json\n")
	log.WriteString(`{"bk_biz_id":2,"expression_scope":{"bk_set_env":"0","bk_set_name":"[a"},"page":1,"pagesize":5}` + "\r\n")
	reqs, err := ReadLog(&log, "log.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	return reqs
}

// TestRoundTrip replays a log twice against the same data, writes and
// reads the results, and finds no difference; then against other data,
// and finds the differences by line.
func TestRoundTrip(t *testing.T) {
	const n = 3000
	reqs := testLog(t, n, 1, 120)
	if len(reqs) != 122 || reqs[120].Line != 122 || reqs[121].Line != 123 {
		t.Fatalf("ReadLog: %d requests, last lines %d, %d", len(reqs), reqs[120].Line, reqs[121].Line)
	}
	if string(reqs[121].Body[len(reqs[121].Body)-1:]) != "}" {
		t.Fatalf("line ending kept: %q", reqs[121].Body)
	}
	e := testEngine(t, n, 1)
	ctx := context.Background()

	sum, first, err := Run(ctx, e, reqs, Options{Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Sent != len(reqs) || sum.Planned != len(reqs) || len(first) != len(reqs) {
		t.Fatalf("sent %d of %d, %d answers", sum.Sent, sum.Planned, len(first))
	}
	if sum.Codes[4100001] != 1 || sum.Codes[4111001] != 1 || sum.Codes[0] != len(reqs)-2 {
		t.Errorf("codes %v", sum.Codes)
	}
	if !(sum.P50 <= sum.P90 && sum.P90 <= sum.P99 && sum.P99 <= sum.Max && sum.Max > 0) || sum.Throughput() <= 0 {
		t.Errorf("latencies %v %v %v %v, throughput %v", sum.P50, sum.P90, sum.P99, sum.Max, sum.Throughput())
	}
	if !slices.IsSortedFunc(first, func(a, b Answer) int { return a.Line - b.Line }) {
		t.Error("answers are not in log order")
	}
	for _, a := range first[:120] {
		if a.Code != 0 || a.Count < 0 || len(a.Digest) != 64 {
			t.Fatalf("answer %+v", a)
		}
	}

	path := filepath.Join(t.TempDir(), "results.jsonl")
	if err := WriteAnswersFile(path, first); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	back, err := ReadAnswers(f, path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back, first) {
		t.Fatal("results file does not round-trip")
	}

	// Same data, one worker, each request three times: same answers.
	sum, again, err := Run(ctx, e, reqs, Options{Concurrency: 1, Count: 3 * len(reqs)})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Sent != 3*len(reqs) || len(sum.Unstable) != 0 {
		t.Fatalf("sent %d, unstable %v", sum.Sent, sum.Unstable)
	}
	if c := Compare(back, again); c.Compared != len(reqs) || len(c.Differences) != 0 || c.OnlyNew != nil || c.OnlyOld != nil {
		t.Fatalf("same data compares as %+v", c)
	}

	// Other data: differences are found, named by line.
	_, other, err := Run(ctx, testEngine(t, n, 2), reqs, Options{Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	c := Compare(back, other)
	if len(c.Differences) == 0 {
		t.Fatal("no difference found against other data")
	}
	for _, d := range c.Differences {
		if d.Line > 120 {
			t.Errorf("error answers should not change: %s", d)
		}
		if !strings.HasPrefix(d.String(), "line ") {
			t.Errorf("difference text %q", d)
		}
	}
	// A different log is reported as such.
	changed := slices.Clone(other)
	changed[0].Request = strings.Repeat("0", 64)
	if c := Compare(other, changed); len(c.Differences) != 1 || !strings.Contains(c.Differences[0].String(), "different logs") {
		t.Errorf("changed request: %+v", c.Differences)
	}
	// Lines only one run answered are listed, not counted as differences.
	if c := Compare(first[:10], first[5:12]); c.Compared != 5 || len(c.Differences) != 0 ||
		!slices.Equal(c.OnlyOld, []int{1, 2, 3, 4, 5}) || !slices.Equal(c.OnlyNew, []int{11, 12}) {
		t.Errorf("partial compare %+v", c)
	}
}

// fakeDoer answers at once, counting calls; the body "fail" fails.
type fakeDoer struct{ calls atomic.Int64 }

func (d *fakeDoer) Do(ctx context.Context, body []byte) ([]byte, error) {
	d.calls.Add(1)
	if string(body) == "fail" {
		return []byte(`{"result":false,"code":500,"message":"x","data":null}`), errors.New("boom")
	}
	return []byte(`{"result":true,"code":0,"message":"","data":{"count":7,"list":[]}}`), nil
}

func TestBounds(t *testing.T) {
	reqs := []Request{{Line: 1, Body: []byte("a")}, {Line: 2, Body: []byte("fail")}}
	d := &fakeDoer{}
	sum, answers, err := Run(context.Background(), d, reqs, Options{Concurrency: 2, Count: 11})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Sent != 11 || d.calls.Load() != 11 || sum.Codes[api.CodeInternal] != 5 || sum.Codes[0] != 6 {
		t.Errorf("sent %d, calls %d, codes %v", sum.Sent, d.calls.Load(), sum.Codes)
	}
	if len(answers) != 2 || answers[0].Count != 7 || answers[1].Count != -1 || answers[1].Code != api.CodeInternal {
		t.Errorf("answers %+v", answers)
	}

	// A duration that has already run out sends nothing.
	d = &fakeDoer{}
	sum, answers, err = Run(context.Background(), d, reqs, Options{Count: 1000, Duration: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Sent >= 1000 || int64(sum.Sent) != d.calls.Load() || len(answers) > 2 {
		t.Errorf("duration bound: sent %d, calls %d", sum.Sent, d.calls.Load())
	}

	// A cancelled context stops the replay with its error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := Run(ctx, d, reqs, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}

	// An empty log is an empty replay.
	sum, answers, err = Run(context.Background(), d, nil, Options{Count: 5})
	if err != nil || sum.Sent != 0 || answers != nil {
		t.Errorf("empty log: %+v %v %v", sum, answers, err)
	}
}

func TestReadAnswersErrors(t *testing.T) {
	for in, want := range map[string]string{
		"{\"line\":1}\n": "r.jsonl:1: not a replay result: missing",
		"nope\n":         "r.jsonl:1: not a replay result",
		`{"line":1,"request":"a","code":0,"count":1,"digest":"b"}` + "\n\n" +
			`{"line":1,"request":"a","code":0,"count":1,"digest":"b"}`: "r.jsonl:3: request line 1 is already answered on line 1",
		`{"line":1,"request":"a","code":0,"count":1,"digest":"b","x":1}`: "unknown field",
	} {
		_, err := ReadAnswers(strings.NewReader(in), "r.jsonl")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ReadAnswers(%q) = %v, want %q", in, err, want)
		}
	}
}

func TestCountOf(t *testing.T) {
	for env, want := range map[string]int64{
		`{"result":true,"code":0,"message":"","data":{"count":12,"list":[]}}`: 12,
		`{"result":false,"code":4100001,"message":"x","data":null}`:           -1,
		`{"result":true,"code":0,"message":"","data":{"count":x`:              -1,
	} {
		if got := countOf([]byte(env)); got != want {
			t.Errorf("countOf(%s) = %d, want %d", env, got, want)
		}
	}
}
