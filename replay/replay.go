// Package replay replays a log of process_status requests against an
// engine: it measures throughput and latency, counts the answers by
// envelope code, and keeps a digest of every answer so that two runs (a
// new build, or a new snapshot, against an old one) can be compared
// request by request.
//
// A log is JSON Lines: one request body per line, exactly as the API
// receives it; blank lines are skipped but still counted, so a request is
// named by its line number. Malformed lines are replayed too: the API
// answers them with a validation error, and so does the replay.
package replay

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/procq/procq/workload"
)

// Request is one request of a log.
type Request = workload.Request

// ReadLog reads a request log. name is used in errors.
func ReadLog(r io.Reader, name string) ([]Request, error) { return workload.ReadLog(r, name) }

// Doer answers a raw request body with the response envelope, as
// (*engine.Engine).Do does: the error is nil on success, an *api.Error for
// a request the API rejects, anything else for an unexpected failure.
type Doer = workload.Doer

// Options bound and shape a replay.
type Options struct {
	// Concurrency is the number of requests in flight; at least 1.
	Concurrency int
	// Rate, when positive, sends Rate requests per second whatever the
	// answers take (an open loop, at most Concurrency in flight).
	Rate float64
	// Count is the number of requests to send: the log is replayed from
	// the start, again and again if Count is larger; 0 means each request
	// of the log once.
	Count int
	// Duration, when positive, stops the replay once it has run that
	// long, whatever Count says.
	Duration time.Duration
	// Progress, when not nil, is called now and then with the number of
	// requests answered and the number planned.
	Progress func(done, total int)
}

// Answer is the record of one request's answer, one line of a results
// file.
type Answer struct {
	// Line is the request's line number in the log.
	Line int `json:"line"`
	// Request is the SHA-256 of the request body, hex: it tells whether
	// two results files come from the same log.
	Request string `json:"request"`
	// Code is the envelope's code: 0 for success.
	Code int `json:"code"`
	// Count is data.count of a successful answer, -1 otherwise.
	Count int64 `json:"count"`
	// Digest is the SHA-256 of the whole response envelope, hex.
	Digest string `json:"digest"`
}

// Summary is what a replay measured.
type Summary struct {
	// Planned is the number of requests the replay meant to send and
	// Sent the number answered; Sent < Planned when Duration ran out.
	Planned, Sent int
	// Elapsed is the wall time of the replay.
	Elapsed time.Duration
	// Concurrency is the number of workers used.
	Concurrency int
	// P50, P90, P99 and Max are latency quantiles of the requests
	// answered without an unexpected failure (workload.Stats).
	P50, P90, P99, Max time.Duration
	// Open, with Options.Rate, are the latency quantiles from when each
	// request was due (workload.Stats.Open).
	Open workload.Quantiles
	// Codes counts answers by envelope code (0: success).
	Codes map[int]int
	// Unstable lists the log lines answered more than once with
	// different answers (only possible when Count exceeds the log).
	Unstable []int
}

// Throughput is answered requests per second.
func (s *Summary) Throughput() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Sent) / s.Elapsed.Seconds()
}

// sample is one answered request.
type sample struct {
	idx    int // index into the request list
	code   int
	count  int64
	digest [sha256.Size]byte
}

// Run replays reqs against d through the workload runner. It returns the
// summary and the answers, one per request of the log that was answered
// at least once (the first answer), in log order. A Doer error that is
// not an *api.Error counts as api.CodeInternal and does not stop the replay;
// only ctx does.
func Run(ctx context.Context, d Doer, reqs []Request, opt Options) (*Summary, []Answer, error) {
	plan := workload.Plan{Concurrency: max(opt.Concurrency, 1), Rate: opt.Rate, Count: opt.Count,
		Duration: opt.Duration, KeepBodies: true, Progress: opt.Progress}
	var samples []sample
	st, err := workload.NewInProcess(d).Run(ctx, reqs, plan, func(s *workload.Sample) {
		samples = append(samples, sample{idx: s.Index, code: s.Code, count: countOf(s.Body), digest: sha256.Sum256(s.Body)})
	})
	if err != nil {
		return nil, nil, fmt.Errorf("replay: %w", err)
	}
	sum := &Summary{Planned: st.Planned, Sent: st.Sent, Elapsed: st.Elapsed, Concurrency: plan.Concurrency,
		P50: st.P50, P90: st.P90, P99: st.P99, Max: st.Max, Open: st.Open, Codes: map[int]int{}}
	answers := summarize(reqs, samples, sum)
	return sum, answers, nil
}

// summarize counts the samples by code into sum, finds the unstable
// lines and returns the first answer of each request, in log order.
func summarize(reqs []Request, samples []sample, sum *Summary) []Answer {
	first := make([]*sample, len(reqs))
	unstable := map[int]bool{}
	for i := range samples {
		s := &samples[i]
		sum.Codes[s.code]++
		if f := first[s.idx]; f == nil {
			first[s.idx] = s
		} else if f.digest != s.digest {
			unstable[reqs[s.idx].Line] = true
		}
	}
	sum.Unstable = slices.Sorted(maps.Keys(unstable))
	var answers []Answer
	for idx, s := range first {
		if s == nil {
			continue
		}
		reqSum := sha256.Sum256(reqs[idx].Body)
		answers = append(answers, Answer{
			Line: reqs[idx].Line, Request: hex.EncodeToString(reqSum[:]),
			Code: s.code, Count: s.count, Digest: hex.EncodeToString(s.digest[:]),
		})
	}
	return answers
}

// successPrefix is how api.AppendSuccess starts every success envelope.
var successPrefix = []byte(`{"result":true,"code":0,"message":"","data":{"count":`)

// countOf reads data.count of a success envelope; -1 for anything else.
func countOf(env []byte) int64 {
	rest, ok := bytes.CutPrefix(env, successPrefix)
	if !ok {
		return -1
	}
	end := bytes.IndexByte(rest, ',')
	if end < 0 {
		return -1
	}
	n, err := strconv.ParseInt(string(rest[:end]), 10, 64)
	if err != nil {
		return -1
	}
	return n
}
