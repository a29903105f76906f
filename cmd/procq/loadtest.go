package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"procq/gsekit"
	"procq/synth"
)

const loadtestUsage = "loadtest --url URL (--requests REQS.jsonl | --mix-processes N [--mix-count M] [--seed S]) [--concurrency C[,C...]] [--duration D] [--warmup D] [--max-requests N]"

// Bounds that keep a load test small and short.
const (
	maxLoadDuration    = 10 * time.Minute
	maxLoadConcurrency = 1024
	maxLoadRequests    = 10_000_000
	maxLoadBodies      = 1_000_000
)

// runLoadtest sends requests to a procq server on this machine from C
// concurrent clients for a bounded time and count, and prints throughput
// and latency percentiles for each concurrency asked for.
func runLoadtest(args []string) error {
	fs := newFlags("loadtest")
	rawURL := fs.String("url", "http://127.0.0.1:8080"+gsekit.Path, "endpoint URL (loopback only); a URL with no path gets the process_status path")
	reqPath := fs.String("requests", "", "JSON Lines file of request bodies, sent in turn")
	mixN := fs.Int("mix-processes", 0, "instead of --requests: build the synth request mix for the data set `procq gen --processes N` makes")
	mixCount := fs.Int("mix-count", 1000, "number of requests in the synth mix")
	seed := fs.Int64("seed", synth.DefaultSeed, "seed of the data set the synth mix targets (as given to procq gen)")
	concList := fs.String("concurrency", "1,8,64", "comma-separated numbers of concurrent clients, run one after the other")
	duration := fs.Duration("duration", 10*time.Second, "measured time per concurrency")
	warmup := fs.Duration("warmup", time.Second, "unmeasured time before each measurement")
	maxReq := fs.Int64("max-requests", 1_000_000, "stop a measurement after this many requests")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	target, err := loopbackURL(*rawURL)
	if err != nil {
		return err
	}
	var concs []int
	for _, f := range strings.Split(*concList, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || c < 1 || c > maxLoadConcurrency {
			return fmt.Errorf("--concurrency %q: want numbers from 1 to %d", *concList, maxLoadConcurrency)
		}
		concs = append(concs, c)
	}
	if *duration <= 0 || *duration > maxLoadDuration || *warmup < 0 || *warmup > maxLoadDuration {
		return fmt.Errorf("--duration and --warmup must be within (0, %s]", maxLoadDuration)
	}
	if *maxReq < 1 || *maxReq > maxLoadRequests {
		return fmt.Errorf("--max-requests must be from 1 to %d", maxLoadRequests)
	}
	var bodies [][]byte
	switch {
	case *reqPath != "" && *mixN > 0:
		return fmt.Errorf("--requests and --mix-processes are exclusive")
	case *reqPath != "":
		bodies, err = readBodies(*reqPath)
	case *mixN > 0:
		if *mixCount < 1 || *mixCount > maxLoadBodies {
			return fmt.Errorf("--mix-count must be from 1 to %d", maxLoadBodies)
		}
		bodies, err = synth.Requests(synth.Options{Processes: *mixN, Seed: *seed}, *mixCount, *seed)
	default:
		return fmt.Errorf("--requests or --mix-processes is required")
	}
	if err != nil {
		return err
	}
	if len(bodies) == 0 {
		return fmt.Errorf("%s: no requests", *reqPath)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Printf("loadtest %s: %d distinct requests, %s per concurrency after %s warm-up, at most %d requests\n",
		target, len(bodies), *duration, *warmup, *maxReq)
	fmt.Printf("%-12s %10s %10s %10s %10s %10s %10s %s\n", "concurrency", "requests", "req/s", "p50", "p90", "p99", "max", "statuses")
	for _, c := range concs {
		cfg := loadConfig{url: target, bodies: bodies, concurrency: c, duration: *duration, warmup: *warmup, maxRequests: *maxReq}
		res, err := runLoad(ctx, cfg)
		if err != nil {
			return err
		}
		fmt.Printf("%-12d %10d %10.0f %10s %10s %10s %10s %s\n", c, res.requests, res.throughput(),
			fmtDur(res.quantile(0.50)), fmtDur(res.quantile(0.90)), fmtDur(res.quantile(0.99)), fmtDur(res.quantile(1)), res.statusText())
	}
	return nil
}

// loopbackURL checks that raw is an http URL of a loopback host and adds
// the endpoint path when it has none.
func loopbackURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("--url: %w", err)
	}
	if u.Scheme != "http" {
		return "", fmt.Errorf("--url %q: want an http:// URL", raw)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("--url %q: load tests run against this machine only (a loopback address or localhost)", raw)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = gsekit.Path
	}
	return u.String(), nil
}

// readBodies reads one request body per non-blank line of path.
func readBodies(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), gsekit.DefaultMaxBodyBytes)
	var bodies [][]byte
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if len(bodies) == maxLoadBodies {
			return nil, fmt.Errorf("%s:%d: more than %d requests", path, line, maxLoadBodies)
		}
		bodies = append(bodies, bytes.Clone(b))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return bodies, nil
}

// loadConfig is one measurement.
type loadConfig struct {
	url         string
	bodies      [][]byte
	concurrency int
	duration    time.Duration
	warmup      time.Duration
	maxRequests int64
}

// loadResult is what one measurement saw.
type loadResult struct {
	requests int64
	elapsed  time.Duration
	// latencies are sorted ascending; one per completed request, failed
	// or not.
	latencies []time.Duration
	// statuses counts answers by HTTP status; 0 counts transport errors.
	statuses map[int]int64
	firstErr error
}

func (r *loadResult) throughput() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.requests) / r.elapsed.Seconds()
}

// quantile returns the q-quantile latency (nearest rank).
func (r *loadResult) quantile(q float64) time.Duration {
	n := len(r.latencies)
	if n == 0 {
		return 0
	}
	i := int(float64(n)*q+0.999999) - 1
	return r.latencies[min(max(i, 0), n-1)]
}

func (r *loadResult) statusText() string {
	keys := make([]int, 0, len(r.statuses))
	for k := range r.statuses {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		if k == 0 {
			fmt.Fprintf(&b, "error:%d", r.statuses[k])
		} else {
			fmt.Fprintf(&b, "%d:%d", k, r.statuses[k])
		}
	}
	if r.firstErr != nil {
		fmt.Fprintf(&b, " (first error: %v)", r.firstErr)
	}
	return b.String()
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.0fµs", float64(d)/1e3)
}

// runLoad runs a warm-up and then one measurement of cfg.concurrency
// clients, each sending the bodies in turn from its own starting point,
// until the duration or the request count is used up or ctx ends (then
// it returns ctx's error with what it measured).
func runLoad(ctx context.Context, cfg loadConfig) (*loadResult, error) {
	tr := &http.Transport{
		Proxy:               nil, // loopback only: never through a proxy
		MaxIdleConns:        cfg.concurrency,
		MaxIdleConnsPerHost: cfg.concurrency,
		DisableCompression:  true,
		IdleConnTimeout:     time.Minute,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: time.Minute}

	if cfg.warmup > 0 {
		measure(ctx, client, cfg, time.Now().Add(cfg.warmup), false)
	}
	return measure(ctx, client, cfg, time.Now().Add(cfg.duration), true), ctx.Err()
}

// measure runs the clients until the deadline passes, maxRequests are
// sent or ctx ends. A request started before the deadline is let finish,
// so the server sees no cancelled requests.
func measure(ctx context.Context, client *http.Client, cfg loadConfig, deadline time.Time, record bool) *loadResult {
	var sent atomic.Int64
	type worker struct {
		lat      []time.Duration
		statuses map[int]int64
		firstErr error
	}
	workers := make([]worker, cfg.concurrency)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wk := &workers[w]
		wk.statuses = map[int]int64{}
		next := w * len(cfg.bodies) / cfg.concurrency
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(deadline) && sent.Add(1) <= cfg.maxRequests {
				body := cfg.bodies[next%len(cfg.bodies)]
				next++
				t0 := time.Now()
				status, err := send(ctx, client, cfg.url, body)
				d := time.Since(t0)
				if err != nil && wk.firstErr == nil {
					wk.firstErr = err
				}
				if record {
					wk.lat = append(wk.lat, d)
				}
				wk.statuses[status]++
			}
		})
	}
	wg.Wait()
	res := &loadResult{elapsed: time.Since(start), statuses: map[int]int64{}}
	for _, wk := range workers {
		res.latencies = append(res.latencies, wk.lat...)
		for k, v := range wk.statuses {
			res.statuses[k] += v
			res.requests += v
		}
		if res.firstErr == nil {
			res.firstErr = wk.firstErr
		}
	}
	slices.Sort(res.latencies)
	return res
}

// send posts one body and reads the whole answer; the status is 0 on a
// transport error.
func send(ctx context.Context, client *http.Client, url string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, err
	}
	return resp.StatusCode, nil
}
