package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"

	"github.com/procq/procq/bench"
	"github.com/procq/procq/engine"
	"github.com/procq/procq/internal/synth"
	"github.com/procq/procq/pretouch"
	"github.com/procq/procq/replay"
	"github.com/procq/procq/workload"
)

const replayUsage = "replay --snapshot FILE --requests LOG.jsonl [--concurrency C] [--rate R] [--count N] [--duration D] [--out RESULTS.jsonl] [--compare RESULTS.jsonl]"

// maxReplayConcurrency bounds --concurrency.
const maxReplayConcurrency = workload.MaxConcurrency

// errAnswersDiffer makes `procq replay --compare` exit 1; the differences
// are printed before it is returned.
var errAnswersDiffer = errors.New("answers differ")

// runReplay replays a request log against a snapshot and reports
// throughput, latency, error codes and, with --compare, the requests that
// answer differently from an earlier run.
func runReplay(args []string) error {
	fs := newFlags("replay")
	snap := fs.String("snapshot", "", "snapshot `FILE` to answer from (required)")
	logPath := fs.String("requests", "", "request log `FILE`, one JSON request per line, \"-\" for stdin (required)")
	conc := fs.Int("concurrency", 1, "`C` requests in flight (at most, with --rate)")
	rate := fs.Float64("rate", 0, "send `R` requests per second whatever the answers take (open loop; default: closed loop)")
	count := fs.Int("count", 0, "`N` requests to send, cycling through the log (default: each line once)")
	duration := fs.Duration("duration", 0, "stop after `D` (default: no limit)")
	out := fs.String("out", "", "write each answer's digest to this results `FILE` (JSON Lines; \"-\" for stdout, the report then goes to stderr)")
	compare := fs.String("compare", "", "results `FILE` of an earlier run to compare the answers with")
	touch := fs.Bool("pretouch", true, "touch the heap's headroom after the load, as serve does (--pretouch=false: the first requests fault in fresh memory)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required("snapshot", *snap); err != nil {
		return err
	}
	if err := required("requests", *logPath); err != nil {
		return err
	}
	if *conc < 1 || *conc > maxReplayConcurrency {
		return fmt.Errorf("--concurrency must be 1..%d, got %d", maxReplayConcurrency, *conc)
	}
	if *rate < 0 {
		return fmt.Errorf("--rate must be >= 0, got %g", *rate)
	}
	if *count < 0 {
		return fmt.Errorf("--count must be >= 0, got %d", *count)
	}
	if *duration < 0 {
		return fmt.Errorf("--duration must be >= 0, got %s", *duration)
	}

	reqs, err := readRequestLog(*logPath)
	if err != nil {
		return err
	}
	var old []replay.Answer
	if *compare != "" {
		if old, err = readResults(*compare); err != nil {
			return err
		}
	}
	start := time.Now()
	e, err := engine.Load(*snap)
	if err != nil {
		return err
	}
	// With --out -, the answers take stdout and the report goes to stderr.
	report := os.Stdout
	if *out == "-" {
		report = os.Stderr
	}
	fmt.Fprintf(report, "replay: %d requests of %s against %s (%d records, loaded in %s)\n",
		len(reqs), *logPath, *snap, e.Len(), bench.Duration(time.Since(start)))
	if *touch {
		start := time.Now()
		n := pretouch.Heap(0)
		fmt.Fprintf(report, "replay: heap pretouched, %d MiB in %s\n", n>>20, bench.Duration(time.Since(start)))
	}

	opt := replay.Options{Concurrency: *conc, Rate: *rate, Count: *count, Duration: *duration}
	var m *meter
	if isTerminal(os.Stderr) {
		// Off a terminal the report says it all.
		m = newMeter("replay")
		opt.Progress = func(done, total int) { m.show("replaying", "requests", int64(done), int64(total)) }
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	sum, answers, err := replay.Run(ctx, e, reqs, opt)
	m.end()
	if err != nil {
		return err
	}
	printSummary(report, sum)
	return replayOutputs(report, answers, *out, *compare, old)
}

// replayOutputs writes the answers to out and compares them with old,
// the results of compare, as the flags ask; report gets the messages.
func replayOutputs(report io.Writer, answers []replay.Answer, out, compare string, old []replay.Answer) error {
	if out != "" {
		if err := writeOut(out, func(w io.Writer) error { return replay.WriteAnswers(w, answers) }); err != nil {
			return err
		}
		fmt.Fprintf(report, "answers: %d digests written to %s\n", len(answers), out)
	}
	if compare != "" {
		c := replay.Compare(old, answers)
		printComparison(report, c, compare)
		if len(c.Differences) > 0 {
			return fmt.Errorf("%w: %d of %d requests answer differently than in %s", errAnswersDiffer, len(c.Differences), c.Compared, compare)
		}
	}
	return nil
}

func readRequestLog(path string) ([]replay.Request, error) {
	f, name, err := openIn(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	reqs, err := replay.ReadLog(f, name)
	if err != nil {
		return nil, err
	}
	if len(reqs) == 0 {
		return nil, fmt.Errorf("%s: no requests in the log", path)
	}
	return reqs, nil
}

func readResults(path string) ([]replay.Answer, error) {
	f, name, err := openIn(path)
	if err != nil {
		return nil, fmt.Errorf("--compare: %w", err)
	}
	defer f.Close()
	return replay.ReadAnswers(f, name)
}

func printSummary(w io.Writer, s *replay.Summary) {
	cut := ""
	if s.Sent < s.Planned {
		cut = " (stopped by --duration)"
	}
	fmt.Fprintf(w, "sent %d of %d in %s with %d workers%s: %.1f requests/s\n",
		s.Sent, s.Planned, bench.Duration(s.Elapsed), s.Concurrency, cut, s.Throughput())
	fmt.Fprintf(w, "latency: p50 %s, p90 %s, p99 %s, max %s\n",
		bench.Duration(s.P50), bench.Duration(s.P90), bench.Duration(s.P99), bench.Duration(s.Max))
	if o := s.Open; o.Max > 0 {
		fmt.Fprintf(w, "latency from due (open loop): p50 %s, p90 %s, p99 %s, max %s\n",
			bench.Duration(o.P50), bench.Duration(o.P90), bench.Duration(o.P99), bench.Duration(o.Max))
	}
	var codes []string
	for _, c := range slices.Sorted(maps.Keys(s.Codes)) {
		codes = append(codes, fmt.Sprintf("%d: %d", c, s.Codes[c]))
	}
	fmt.Fprintf(w, "answers by code: %s\n", strings.Join(codes, ", "))
	if len(s.Unstable) > 0 {
		fmt.Fprintf(w, "warning: %d requests answered differently when repeated, lines %v\n", len(s.Unstable), s.Unstable)
	}
}

// maxListed bounds the differences printed one per line.
const maxListed = 50

func printComparison(w io.Writer, c *replay.Comparison, path string) {
	fmt.Fprintf(w, "compare with %s: %d requests compared, %d answer differently\n", path, c.Compared, len(c.Differences))
	for i, d := range c.Differences {
		if i == maxListed {
			fmt.Fprintf(w, "  … and %d more\n", len(c.Differences)-maxListed)
			break
		}
		fmt.Fprintf(w, "  %s\n", d)
	}
	if n := len(c.OnlyOld) + len(c.OnlyNew); n > 0 {
		fmt.Fprintf(w, "not compared: %d lines answered only in %s, %d only in this run\n", len(c.OnlyOld), path, len(c.OnlyNew))
	}
}

// writeRequestLog writes count requests aimed at the data set of opt (the
// synth request mix) to path ("-" for stdout), one per line, atomically:
// `procq gen --requests-out`.
func writeRequestLog(path string, opt synth.Options, count int) error {
	bodies, err := synth.Requests(opt, count, opt.Seed)
	if err != nil {
		return err
	}
	err = writeOut(path, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		for _, b := range bodies {
			bw.Write(b)
			bw.WriteByte('\n')
		}
		return bw.Flush()
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "gen: wrote %d requests to %s\n", len(bodies), path)
	return nil
}
