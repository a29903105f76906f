// Package workload sends a list of process_status requests to a target —
// a procq server over HTTP on this machine, or a Doer in this process such
// as (*engine.Engine).Do — and measures what came back. It is the one
// runner behind `procq loadtest` and `procq replay`.
//
// The requests go out through github.com/tsenart/vegeta/v12/lib: either
// from a fixed number of workers, each sending its next request when the
// last is answered (closed loop, Plan.Rate 0), or at a fixed arrival rate
// whatever the answers take (open loop, Plan.Rate > 0, with at most
// Plan.Concurrency in flight). Every run is bounded by a request count and,
// optionally, a duration. Latency quantiles are vegeta's (a t-digest) and
// cover answered requests only; failed ones are counted apart. An open
// loop also measures each answer from the time its request was due
// (Stats.Open), so the wait for a free worker shows in the latency, and
// counts the requests due that were sent late or not at all (Stats.Due,
// Late, MaxLag; Stats.Sustained says whether the rate was kept).
//
// A request is answered when the target gives an API envelope back: HTTP
// 200 (success) or 400 (the API rejected the request). Anything else — no
// connection, a timeout, 401, 404, 413, 5xx — is a failure.
package workload

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Bounds of a plan.
const (
	// MaxConcurrency bounds Plan.Concurrency.
	MaxConcurrency = 1024
	// MaxRate bounds Plan.Rate, in requests per second.
	MaxRate = 1_000_000
	// MaxCount bounds Plan.Count.
	MaxCount = 10_000_000
	// MaxDuration bounds Plan.Duration.
	MaxDuration = 10 * time.Minute
)

// ErrPlan is wrapped by the errors of a plan out of bounds.
var ErrPlan = errors.New("workload: plan out of bounds")

// Request is one request of a workload.
type Request struct {
	// Line is the request's 1-based line number in its log.
	Line int
	// Body is the request body, as the API receives it.
	Body []byte
}

// Plan bounds and shapes a run.
type Plan struct {
	// Concurrency is the number of requests in flight: exactly that many
	// in a closed loop, at most that many in an open loop. At least 1.
	Concurrency int
	// Rate, when positive, makes the run an open loop of Rate requests
	// per second; 0 is a closed loop.
	Rate float64
	// Count is the number of requests to send, cycling through the list;
	// 0 means each request once.
	Count int
	// Duration, when positive, ends the run after that long whatever
	// Count says; requests already sent are let finish.
	Duration time.Duration
	// KeepBodies keeps each answer's body in its Sample (replay needs
	// them; a load test does not).
	KeepBodies bool
	// Progress, when not nil, is called now and then with the number of
	// requests done (answered or failed) and the number planned.
	Progress func(done, total int)
}

// check reports a plan out of bounds.
func (p Plan) check() error {
	switch {
	case p.Concurrency < 1 || p.Concurrency > MaxConcurrency:
		return fmt.Errorf("%w: concurrency %d, want 1..%d", ErrPlan, p.Concurrency, MaxConcurrency)
	case p.Rate < 0 || p.Rate > MaxRate:
		return fmt.Errorf("%w: rate %g, want 0..%d", ErrPlan, p.Rate, MaxRate)
	case p.Count < 0 || p.Count > MaxCount:
		return fmt.Errorf("%w: count %d, want 0..%d", ErrPlan, p.Count, MaxCount)
	case p.Duration < 0 || p.Duration > MaxDuration:
		return fmt.Errorf("%w: duration %s, want 0..%s", ErrPlan, p.Duration, MaxDuration)
	}
	return nil
}

// Sample is one request sent and what came back.
type Sample struct {
	// Index is the request's index in the list given to Run; -1 when the
	// target does not say (HTTP).
	Index int
	// Latency is the time from sending to the whole answer read.
	Latency time.Duration
	// Status is the HTTP status of the answer, 0 when there was none.
	Status int
	// Code is the envelope code of an in-process answer (0: success);
	// for HTTP it is 0 and Status tells.
	Code int
	// Body is the answer (with Plan.KeepBodies).
	Body []byte
	// Err describes a failure; "" for an answered request.
	Err string
}

// Answered reports whether the sample is an API answer (HTTP 200 or 400).
func (s *Sample) Answered() bool {
	return s.Status == http.StatusOK || s.Status == http.StatusBadRequest
}

// Stats is what a run measured.
type Stats struct {
	// Planned is the number of requests the run meant to send, Sent the
	// number sent, Answered and Failed how they ended (Sent = Answered +
	// Failed). Sent < Planned when the duration ran out.
	Planned, Sent, Answered, Failed int
	// Elapsed is the wall time of the run.
	Elapsed time.Duration
	// P50, P90, P99 and Max are latency quantiles of the answered
	// requests, each from the time it was sent.
	P50, P90, P99, Max time.Duration
	// Open, in an open loop (Plan.Rate > 0), are the quantiles of the
	// answered requests' latency from the time each was due (the run's
	// start plus its sequence number over the rate): a request that
	// waited for a free worker counts its wait, which P50…Max leave out.
	// Zero in a closed loop.
	Open Quantiles
	// Due, in an open loop, is the number of requests the rate called for
	// within the run: Count, or fewer when Duration ends the run first.
	// Late is the number sent more than LateAfter after they were due
	// (every worker was busy, or this process did not get the CPU in
	// time), and MaxLag the latest any request was sent. Zero in a
	// closed loop; see Sustained.
	Due, Late int
	MaxLag    time.Duration
	// Statuses counts every request by HTTP status; 0 counts requests
	// with no answer.
	Statuses map[int]int
	// Errors are the distinct failure messages, first ones first, at most
	// maxErrors.
	Errors []string
}

// LateAfter is how long after it was due a request of an open loop may
// be sent and still count as on time.
const LateAfter = time.Millisecond

// sustainedShare is the share of an open loop's requests that must be
// sent, and sent on time, for its rate to count as sustained: 99%.
const sustainedShare = 0.99

// Sustained reports whether an open loop kept its rate: at least 99% of
// the requests due were sent, and at least 99% of those sent on time
// (see LateAfter). A closed loop always does.
func (s *Stats) Sustained() bool {
	if s.Due == 0 {
		return true
	}
	return float64(s.Sent) >= sustainedShare*float64(s.Due) &&
		float64(s.Sent-s.Late) >= sustainedShare*float64(s.Sent)
}

// Quantiles are latency quantiles.
type Quantiles struct{ P50, P90, P99, Max time.Duration }

// maxErrors bounds Stats.Errors.
const maxErrors = 5

// Throughput is answered requests per second.
func (s *Stats) Throughput() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Answered) / s.Elapsed.Seconds()
}

// StatusText lists the requests by status, "200:40 400:2 error:3", then
// the first failure message.
func (s *Stats) StatusText() string {
	var b strings.Builder
	for i, k := range slices.Sorted(maps.Keys(s.Statuses)) {
		if i > 0 {
			b.WriteByte(' ')
		}
		if k == 0 {
			fmt.Fprintf(&b, "error:%d", s.Statuses[k])
		} else {
			fmt.Fprintf(&b, "%d:%d", k, s.Statuses[k])
		}
	}
	if len(s.Errors) > 0 {
		fmt.Fprintf(&b, " (first error: %s)", s.Errors[0])
	}
	return b.String()
}

// target is where a run sends its requests: an HTTP client and the URL
// of request i.
type target struct {
	client *http.Client
	url    func(i int) string
	// index reads the request index back from a result's URL; nil when
	// the target cannot tell.
	index func(url string) int
	// code reads the envelope code from an answer's headers.
	code func(h http.Header) int
	// bodies sends the request bodies (HTTP); an in-process target
	// finds them by index.
	bodies bool
}

// run sends reqs to t as plan says, calls each (when not nil) with every
// sample from one goroutine, and returns the stats. When ctx ends, no
// new request is sent, and run returns ctx's error with the stats of what
// was sent.
func run(ctx context.Context, t *target, reqs []Request, plan Plan, each func(*Sample)) (*Stats, error) {
	if err := plan.check(); err != nil {
		return nil, err
	}
	planned := plan.Count
	if planned == 0 || len(reqs) == 0 {
		planned = len(reqs)
	}
	st := &Stats{Planned: planned, Statuses: map[int]int{}}
	if planned == 0 {
		return st, ctx.Err()
	}
	atk := attacker(t, plan)
	stop := context.AfterFunc(ctx, func() { atk.Stop() })
	defer stop()
	var m, open vegeta.Metrics
	seen := map[string]bool{}
	pace := pacer(plan, planned)
	interval := pace.interval()
	start := time.Now()
	for res := range atk.Attack(targeter(t, reqs), pace, plan.Duration, "") {
		s := sample(t, res)
		st.Sent++
		if plan.Rate > 0 {
			st.lag(res.Timestamp.Sub(due(start, interval, res)))
		}
		st.Statuses[s.Status]++
		if s.Answered() {
			st.Answered++
			m.Add(res)
			if plan.Rate > 0 {
				late := *res
				late.Latency = sinceDue(start, interval, res)
				open.Add(&late)
			}
		} else {
			st.Failed++
			if !seen[s.Err] && len(st.Errors) < maxErrors {
				seen[s.Err] = true
				st.Errors = append(st.Errors, s.Err)
			}
		}
		if each != nil {
			each(&s)
		}
		if plan.Progress != nil && (st.Sent%256 == 0 || st.Sent == planned) {
			plan.Progress(st.Sent, planned)
		}
	}
	st.Elapsed = time.Since(start)
	m.Close()
	st.P50, st.P90, st.P99, st.Max = m.Latencies.P50, m.Latencies.P90, m.Latencies.P99, m.Latencies.Max
	if plan.Rate > 0 {
		st.Due = dueWithin(plan, planned)
		open.Close()
		st.Open = Quantiles{open.Latencies.P50, open.Latencies.P90, open.Latencies.P99, open.Latencies.Max}
	}
	return st, ctx.Err()
}

// sinceDue is the time from when res's request was due to its answer.
// start is taken just before the attack begins, so a request is never due
// after it was sent; it is at least the request's own latency.
func sinceDue(start time.Time, interval time.Duration, res *vegeta.Result) time.Duration {
	return max(res.End().Sub(due(start, interval, res)), res.Latency)
}

// due is when res's request was due: vegeta's constant pacer sends hit n
// at start + (n+1)·interval.
func due(start time.Time, interval time.Duration, res *vegeta.Result) time.Time {
	return start.Add(time.Duration(res.Seq+1) * interval)
}

// lag counts a request of an open loop sent lag after it was due.
func (s *Stats) lag(lag time.Duration) {
	if lag > LateAfter {
		s.Late++
	}
	s.MaxLag = max(s.MaxLag, lag)
}

// dueWithin is the number of requests an open loop's rate calls for: the
// planned count, or those due within the plan's duration when it ends the
// run first (vegeta sends hit n at (n+1)/Rate seconds).
func dueWithin(plan Plan, planned int) int {
	if plan.Duration <= 0 {
		return planned
	}
	return min(planned, int(plan.Duration.Seconds()*plan.Rate))
}

// attacker is a vegeta attacker on t's client with the plan's workers.
func attacker(t *target, plan Plan) *vegeta.Attacker {
	workers := uint64(plan.Concurrency)
	maxBody := int64(0)
	if plan.KeepBodies {
		maxBody = -1
	}
	return vegeta.NewAttacker(vegeta.Client(t.client), vegeta.Workers(workers),
		vegeta.MaxWorkers(workers), vegeta.MaxBody(maxBody))
}

// targeter hands out the requests in turn, cycling. vegeta calls it
// from its workers concurrently.
func targeter(t *target, reqs []Request) vegeta.Targeter {
	var next atomic.Int64
	header := http.Header{"Content-Type": {"application/json"}}
	return func(tgt *vegeta.Target) error {
		i := int((next.Add(1) - 1) % int64(len(reqs)))
		tgt.Method, tgt.URL, tgt.Header = http.MethodPost, t.url(i), header
		if t.bodies {
			tgt.Body = reqs[i].Body
		}
		return nil
	}
}

// countPacer stops an attack after max hits.
type countPacer struct {
	vegeta.Pacer
	max uint64
}

// Pace stops once max hits are sent, and paces as the inner pacer before.
func (p countPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if hits >= p.max {
		return 0, true
	}
	return p.Pacer.Pace(elapsed, hits)
}

// interval is the time between two hits of a constant rate, 0 when the
// hits go as fast as the workers do.
func (p countPacer) interval() time.Duration {
	c, ok := p.Pacer.(vegeta.ConstantPacer)
	if !ok || c.Freq <= 0 {
		return 0
	}
	return c.Per / time.Duration(c.Freq)
}

// pacer is the plan's pacer, stopping after planned requests: a constant
// rate for an open loop, vegeta's "as fast as the workers go" (a zero
// ConstantPacer) for a closed one.
func pacer(plan Plan, planned int) countPacer {
	var inner vegeta.Pacer = vegeta.ConstantPacer{}
	if plan.Rate > 0 {
		// A rate per second with a fraction becomes whole hits per a
		// longer period: 2.5/s is 5 per 2 s.
		per := time.Second
		freq := plan.Rate
		for freq != float64(int(freq)) && per < time.Hour {
			freq, per = freq*10, per*10
		}
		inner = vegeta.ConstantPacer{Freq: int(freq), Per: per}
	}
	return countPacer{Pacer: inner, max: uint64(planned)}
}

// sample turns a vegeta result into a Sample.
func sample(t *target, res *vegeta.Result) Sample {
	s := Sample{Index: -1, Latency: res.Latency, Status: int(res.Code), Body: res.Body, Err: res.Error}
	if t.index != nil {
		s.Index = t.index(res.URL)
	}
	if t.code != nil && res.Headers != nil {
		s.Code = t.code(res.Headers)
	}
	if !s.Answered() && s.Err == "" {
		s.Err = fmt.Sprintf("HTTP status %d", s.Status)
	}
	if s.Answered() {
		s.Err = ""
	}
	return s
}
