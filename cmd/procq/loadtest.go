package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/procq/procq/bench"
	"github.com/procq/procq/gsekit"
	"github.com/procq/procq/internal/synth"
	"github.com/procq/procq/workload"
)

const loadtestUsage = "loadtest [--url URL] [--requests REQS.jsonl | --processes N [--mix-count M] [--seed S]] [--concurrency C[,C...] | --rate R[,R...]] [--duration D] [--warmup D] [--count N] [--cpuprofile FILE]"

// errRequestsFailed makes `procq loadtest` exit 1 when any measured
// request got no API answer.
var errRequestsFailed = errors.New("requests failed")

// maxLoadBodies bounds the distinct requests of a load test.
const maxLoadBodies = 1_000_000

// loadFlags are the parsed flags of `procq loadtest`.
type loadFlags struct {
	url, requests    string
	mixN, mixCount   int
	seed             int64
	concs            []int
	rates            []float64
	duration, warmup time.Duration
	maxRequests      int
	// cpuprofile, when set, is the file the load generator's own CPU
	// profile is written to (the server's comes from serve --pprof).
	cpuprofile string
}

// runLoadtest sends requests to a procq server on this machine, at each
// concurrency (or arrival rate) asked for in turn, bounded in time and
// count, and prints throughput and the latency of the answered requests.
// It fails when any measured request got no answer.
func runLoadtest(args []string) error {
	f, err := parseLoadFlags(args)
	if err != nil {
		return err
	}
	h, err := workload.NewHTTP(f.url, gsekit.Path, workload.MaxConcurrency)
	if err != nil {
		return fmt.Errorf("--url: %w", err)
	}
	defer h.Close()
	reqs, err := loadRequests(f)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if f.cpuprofile != "" {
		stopProfile, err := startCPUProfile(f.cpuprofile)
		if err != nil {
			return err
		}
		defer stopProfile()
	}
	fmt.Printf("loadtest %s: %d distinct requests, %s per run after %s warm-up, at most %d requests\n",
		h.URL(), len(reqs), f.duration, f.warmup, f.maxRequests)
	return loadRuns(ctx, os.Stdout, h, reqs, f)
}

// loadRuns measures each plan of f in turn and prints one line each.
func loadRuns(ctx context.Context, w io.Writer, h *workload.HTTP, reqs []workload.Request, f *loadFlags) error {
	if len(f.rates) > 0 {
		fmt.Fprintf(w, "open loop, at most %d in flight: latency counts from when each request was due\n", maxOf(f.concs))
	}
	fmt.Fprintf(w, "%-12s %10s %8s %10s %10s %10s %10s %10s %s\n", "run", "answered", "failed", "req/s", "p50", "p90", "p99", "max", "statuses")
	failed := 0
	for _, plan := range f.plans() {
		name := "c=" + strconv.Itoa(plan.Concurrency)
		if plan.Rate > 0 {
			name = "rate=" + strconv.FormatFloat(plan.Rate, 'g', -1, 64)
		}
		if f.warmup > 0 {
			warm := plan
			warm.Duration = f.warmup
			if _, err := h.Run(ctx, reqs, warm, nil); err != nil {
				return err
			}
		}
		var m *meter
		if isTerminal(os.Stderr) {
			// Off a terminal the table on stdout says it all.
			m = newMeter("loadtest")
			plan.Progress = func(done, total int) { m.show(name, "requests", int64(done), int64(total)) }
		}
		cpu0, _ := processCPU()
		st, err := h.Run(ctx, reqs, plan, nil)
		m.end()
		if err != nil {
			return err
		}
		printRun(w, name, plan, st)
		printClientCPU(w, cpu0, st.Sent)
		failed += st.Failed
	}
	if failed > 0 {
		return fmt.Errorf("%w: %d measured requests got no API answer", errRequestsFailed, failed)
	}
	return nil
}

// printRun prints the table line of one run and, for an open loop, a
// line saying whether it kept its rate.
func printRun(w io.Writer, name string, plan workload.Plan, st *workload.Stats) {
	lat := func(d time.Duration) string {
		if st.Answered == 0 {
			return "-" // no answer, no latency
		}
		return bench.Duration(d)
	}
	q, sent := workload.Quantiles{P50: st.P50, P90: st.P90, P99: st.P99, Max: st.Max}, ""
	if plan.Rate > 0 {
		// An open loop's latency counts from when each request was
		// due, so a wait for a free client shows.
		q = st.Open
		sent = fmt.Sprintf(" (from sent: p50 %s p99 %s)", lat(st.P50), lat(st.P99))
	}
	fmt.Fprintf(w, "%-12s %10d %8d %10.0f %10s %10s %10s %10s %s%s\n", name, st.Answered, st.Failed, st.Throughput(),
		lat(q.P50), lat(q.P90), lat(q.P99), lat(q.Max), st.StatusText(), sent)
	if plan.Rate > 0 {
		fmt.Fprintf(w, "%-12s %s\n", "", rateVerdict(plan.Rate, st))
	}
}

// printClientCPU prints the CPU this process took per request sent since
// it had used cpu0: on a machine whose cores the server shares, what the
// load generator took from it.
func printClientCPU(w io.Writer, cpu0 time.Duration, sent int) {
	cpu, ok := processCPU()
	if !ok || sent == 0 {
		return
	}
	fmt.Fprintf(w, "%-12s load generator: %s CPU a request (user+sys of this process)\n", "", bench.Duration((cpu-cpu0)/time.Duration(sent)))
}

// rateVerdict says whether an open loop kept its rate, with the counts
// that tell: requests sent of those due, sent late, and the latest.
func rateVerdict(rate float64, st *workload.Stats) string {
	verdict := "rate sustained"
	if !st.Sustained() {
		verdict = "RATE NOT SUSTAINED"
	}
	pct := func(n, of int) float64 {
		if of == 0 {
			return 0
		}
		return 100 * float64(n) / float64(of)
	}
	sentRate := 0.0
	if st.Elapsed > 0 {
		sentRate = float64(st.Sent) / st.Elapsed.Seconds()
	}
	return fmt.Sprintf("%s: target %g/s, sent %d of %d due (%.1f%%, %.0f/s), %d sent over %s late (%.1f%%), latest %s late",
		verdict, rate, st.Sent, st.Due, pct(st.Sent, st.Due), sentRate,
		st.Late, bench.Duration(workload.LateAfter), pct(st.Late, st.Sent), bench.Duration(st.MaxLag))
}

// plans are the runs f asks for: one per rate, or one per concurrency.
// With rates, the largest concurrency bounds the requests in flight.
func (f *loadFlags) plans() []workload.Plan {
	base := workload.Plan{Count: f.maxRequests, Duration: f.duration}
	var out []workload.Plan
	if len(f.rates) > 0 {
		base.Concurrency = maxOf(f.concs)
		for _, r := range f.rates {
			p := base
			p.Rate = r
			out = append(out, p)
		}
		return out
	}
	for _, c := range f.concs {
		p := base
		p.Concurrency = c
		out = append(out, p)
	}
	return out
}

func maxOf(list []int) int {
	m := 1
	for _, v := range list {
		m = max(m, v)
	}
	return m
}

// parseLoadFlags parses and bounds the flags of `procq loadtest`.
func parseLoadFlags(args []string) (*loadFlags, error) {
	fs := newFlags("loadtest")
	f := &loadFlags{}
	fs.StringVar(&f.url, "url", "http://127.0.0.1:8080"+gsekit.Path, "endpoint `URL` (loopback only); a URL with no path gets the process_status path")
	fs.StringVar(&f.requests, "requests", "", "JSON Lines `FILE` of request bodies (\"-\" for stdin), sent in turn; default: the generated request mix")
	mixN := processesFlag(fs)
	fs.Lookup("processes").Usage = "without --requests: send the request mix for the data set of `N` processes (procq gen --processes N, serve --demo --processes N)"
	alias(fs, "mix-processes", "processes")
	mixCount := mixCountFlag(fs)
	seed := seedFlag(fs)
	concList := fs.String("concurrency", "1,8,64", "comma-separated numbers `C` of concurrent clients, run one after the other (closed loop)")
	rateList := fs.String("rate", "", "comma-separated arrival rates `R` in requests/s, run one after the other (open loop; the largest --concurrency bounds the requests in flight; latency counts from when each request was due; each run says whether its rate was sustained: 99% of the requests due sent, 99% of them within 1 ms of when due)")
	fs.DurationVar(&f.duration, "duration", 10*time.Second, "measured time `D` per run")
	fs.DurationVar(&f.warmup, "warmup", time.Second, "unmeasured time `D` before each run")
	fs.IntVar(&f.maxRequests, "count", 1_000_000, "`N` requests to send per run at most, cycling through the requests (a run also ends after --duration)")
	alias(fs, "max-requests", "count")
	fs.StringVar(&f.cpuprofile, "cpuprofile", "", "write a CPU profile of the load generator itself (warm-ups included) to `FILE`")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	f.mixN, f.mixCount, f.seed = *mixN, *mixCount, *seed
	if f.requests != "" {
		if isSet(fs, "processes") {
			return nil, usageErrorf("--requests and --processes are exclusive")
		}
		f.mixN = 0
	}
	var err error
	if f.concs, err = parseList(*concList, "--concurrency", 1, workload.MaxConcurrency, strconv.Atoi); err != nil {
		return nil, err
	}
	if *rateList != "" {
		parse := func(s string) (float64, error) { return strconv.ParseFloat(s, 64) }
		if f.rates, err = parseList(*rateList, "--rate", 0.001, workload.MaxRate, parse); err != nil {
			return nil, err
		}
	}
	switch {
	case f.duration <= 0 || f.duration > workload.MaxDuration || f.warmup < 0 || f.warmup > workload.MaxDuration:
		return nil, fmt.Errorf("--duration and --warmup must be within (0, %s]", workload.MaxDuration)
	case f.maxRequests < 1 || f.maxRequests > workload.MaxCount:
		return nil, fmt.Errorf("--count must be from 1 to %d", workload.MaxCount)
	}
	return f, nil
}

// parseList parses a comma-separated list of numbers within [lo, hi].
func parseList[T int | float64](list, flag string, lo, hi T, parse func(string) (T, error)) ([]T, error) {
	var out []T
	for s := range strings.SplitSeq(list, ",") {
		v, err := parse(strings.TrimSpace(s))
		if err != nil || v < lo || v > hi {
			return nil, fmt.Errorf("%s %q: want numbers from %v to %v", flag, list, lo, hi)
		}
		out = append(out, v)
	}
	return out, nil
}

// loadRequests reads --requests or builds the synth mix.
func loadRequests(f *loadFlags) ([]workload.Request, error) {
	switch {
	case f.requests != "" && f.mixN > 0:
		return nil, usageErrorf("--requests and --processes are exclusive")
	case f.requests != "":
		bodies, err := readBodies(f.requests)
		if err != nil {
			return nil, err
		}
		if len(bodies) == 0 {
			return nil, fmt.Errorf("%s: no requests", f.requests)
		}
		return bodies, nil
	case f.mixN > 0:
		if f.mixCount < 1 || f.mixCount > maxLoadBodies {
			return nil, fmt.Errorf("--mix-count must be from 1 to %d", maxLoadBodies)
		}
		bodies, err := synth.Requests(synth.Options{Processes: f.mixN, Seed: f.seed}, f.mixCount, f.seed)
		if err != nil {
			return nil, err
		}
		reqs := make([]workload.Request, len(bodies))
		for i, b := range bodies {
			reqs[i] = workload.Request{Line: i + 1, Body: b}
		}
		return reqs, nil
	}
	return nil, usageErrorf("--requests or --processes is required")
}

// readBodies reads the request log at path, at most maxLoadBodies.
func readBodies(path string) ([]workload.Request, error) {
	f, name, err := openIn(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	reqs, err := workload.ReadLog(f, name)
	if err != nil {
		return nil, err
	}
	if len(reqs) > maxLoadBodies {
		return nil, fmt.Errorf("%s: more than %d requests", path, maxLoadBodies)
	}
	return reqs, nil
}

// startCPUProfile profiles this process into path until the returned
// function is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
