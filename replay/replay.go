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
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"procq/api"
)

// Request is one request of a log.
type Request struct {
	// Line is the request's 1-based line number in the log.
	Line int
	// Body is the line without its line ending.
	Body []byte
}

// ReadLog reads a request log. name is used in errors.
func ReadLog(r io.Reader, name string) ([]Request, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var reqs []Request
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		body := bytes.TrimRight(b, "\r\n")
		if len(bytes.TrimSpace(body)) > 0 {
			reqs = append(reqs, Request{Line: line, Body: body})
		}
		if err == io.EOF {
			return reqs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
	}
}

// Doer answers a raw request body with the response envelope, as
// (*engine.Engine).Do does: the error is nil on success, an *api.Error for
// a request the API rejects, anything else for an unexpected failure.
type Doer interface {
	Do(ctx context.Context, body []byte) ([]byte, error)
}

// Options bound and shape a replay.
type Options struct {
	// Concurrency is the number of requests in flight; at least 1.
	Concurrency int
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
	// P50, P90, P99 and Max are latency percentiles (nearest rank).
	P50, P90, P99, Max time.Duration
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
	idx     int // index into the request list
	latency time.Duration
	code    int
	count   int64
	digest  [sha256.Size]byte
}

// Run replays reqs against d. It returns the summary and the answers,
// one per request of the log that was answered at least once (the first
// answer), in log order. A Doer error that is not an *api.Error counts as
// api.CodeInternal and does not stop the replay; only ctx does.
func Run(ctx context.Context, d Doer, reqs []Request, opt Options) (*Summary, []Answer, error) {
	if opt.Concurrency < 1 {
		opt.Concurrency = 1
	}
	planned := opt.Count
	if planned <= 0 {
		planned = len(reqs)
	}
	if len(reqs) == 0 {
		planned = 0
	}
	var next, done atomic.Int64
	var deadline time.Time
	start := time.Now()
	if opt.Duration > 0 {
		deadline = start.Add(opt.Duration)
	}
	results := make([][]sample, opt.Concurrency)
	errs := make([]error, opt.Concurrency)
	var wg sync.WaitGroup
	for w := range opt.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if ctx.Err() != nil {
					errs[w] = ctx.Err()
					return
				}
				if !deadline.IsZero() && !time.Now().Before(deadline) {
					return
				}
				i := int(next.Add(1) - 1)
				if i >= planned {
					return
				}
				idx := i % len(reqs)
				t0 := time.Now()
				env, err := d.Do(ctx, reqs[idx].Body)
				lat := time.Since(t0)
				if err != nil && ctx.Err() != nil {
					// Cancelled mid-request: not an answer.
					errs[w] = ctx.Err()
					return
				}
				s := sample{idx: idx, latency: lat, code: codeOf(err), count: countOf(env), digest: sha256.Sum256(env)}
				results[w] = append(results[w], s)
				n := int(done.Add(1))
				if opt.Progress != nil && (n%256 == 0 || n == planned) {
					opt.Progress(n, planned)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return nil, nil, fmt.Errorf("replay: %w", err)
	}
	return summarize(reqs, results, planned, elapsed, opt.Concurrency)
}

func summarize(reqs []Request, results [][]sample, planned int, elapsed time.Duration, workers int) (*Summary, []Answer, error) {
	sum := &Summary{Planned: planned, Elapsed: elapsed, Concurrency: workers, Codes: map[int]int{}}
	var lat []time.Duration
	first := make([]*sample, len(reqs))
	unstable := map[int]bool{}
	for w := range results {
		for i := range results[w] {
			s := &results[w][i]
			lat = append(lat, s.latency)
			sum.Codes[s.code]++
			if f := first[s.idx]; f == nil {
				first[s.idx] = s
			} else if f.digest != s.digest {
				unstable[reqs[s.idx].Line] = true
			}
		}
	}
	sum.Sent = len(lat)
	slices.Sort(lat)
	sum.P50, sum.P90, sum.P99 = Percentile(lat, 50), Percentile(lat, 90), Percentile(lat, 99)
	if len(lat) > 0 {
		sum.Max = lat[len(lat)-1]
	}
	for line := range unstable {
		sum.Unstable = append(sum.Unstable, line)
	}
	slices.Sort(sum.Unstable)
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
	return sum, answers, nil
}

// codeOf is the envelope code of a Doer's error.
func codeOf(err error) int {
	if err == nil {
		return 0
	}
	var ae *api.Error
	if errors.As(err, &ae) {
		return ae.Code
	}
	return api.CodeInternal
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

// Percentile returns the nearest-rank p-th percentile of sorted.
func Percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (p*len(sorted) + 99) / 100
	return sorted[max(rank, 1)-1]
}
