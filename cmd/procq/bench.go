package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"

	"github.com/procq/procq/bench"
	"github.com/procq/procq/internal/benchchart"
)

const benchUsage = "bench [--processes N | --snapshot FILE] [--quick] [--format markdown|json] [--seed S] [--engines scan,sqlite,buntdb] [--budget D] [--plot FILE.svg] [--cpuprofile FILE [--profile-query NAME] [--profile-for D]]"

// runBench compares procq with a full scan, SQLite and buntdb on the same
// records and the same questions, and prints the table.
func runBench(args []string) error {
	opt, out, err := benchOptions(args)
	if err != nil {
		return err
	}
	if out.cpuprofile != "" {
		f, err := os.Create(out.cpuprofile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer f.Close()
		opt.CPUProfile = f
	}
	return benchRun(opt, out)
}

// benchOutputs are the outputs `procq bench` writes.
type benchOutputs struct {
	// format is the report's format on stdout; cpuprofile and plot,
	// when set, are files to write.
	format, cpuprofile, plot string
}

// benchOptions parses and checks the flags of `procq bench`.
func benchOptions(args []string) (opt bench.Options, out benchOutputs, err error) {
	fs := newFlags("bench")
	n := processesFlag(fs)
	quick := fs.Bool("quick", false, "short timings (at most 200 runs, 30ms per query and engine): a 100,000-process run in well under a minute")
	formatFlag := fs.String("format", "markdown", "output `FORMAT`: markdown or json")
	seed := seedFlag(fs)
	snap := fs.String("snapshot", "", "use the snapshot `FILE` instead of generating a data set")
	engines := fs.String("engines", strings.Join(bench.Baselines, ","), "comma-separated `LIST` of baselines to run beside procq")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of procq answering its slowest query (or --profile-query) to `FILE`")
	profileQuery := fs.String("profile-query", "", "`NAME` of the query to profile (default: procq's slowest)")
	profileFor := fs.Duration("profile-for", 3*time.Second, "how long (`D`) to profile the query")
	budget := fs.Duration("budget", 0, "time `D` each query is repeated per engine, after the minimum runs (default 1s, 30ms with --quick)")
	plot := fs.String("plot", "", "also draw each engine's median latency per query, log scale, as an SVG chart in `FILE` (\"-\" for stdout)")
	if err := parseFlags(fs, args); err != nil {
		return opt, out, err
	}
	if *snap != "" && isSet(fs, "processes") {
		return opt, out, usageErrorf("--snapshot and --processes are exclusive")
	}
	if err := benchChecks(*formatFlag, *n, *profileQuery, *cpuprofile, *profileFor, *budget); err != nil {
		return opt, out, err
	}
	opt = bench.FullOptions()
	if *quick {
		opt = bench.QuickOptions()
	}
	opt.Processes = *n
	if *budget > 0 {
		opt.Budget = *budget
	}
	opt.Seed, opt.Snapshot, opt.ProfileQuery, opt.ProfileFor = *seed, *snap, *profileQuery, *profileFor
	opt.Engines = []string{}
	for name := range strings.SplitSeq(*engines, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if !slices.Contains(bench.Baselines, name) {
			return opt, out, fmt.Errorf("--engines: unknown engine %q (known: %s)", name, strings.Join(bench.Baselines, ", "))
		}
		opt.Engines = append(opt.Engines, name)
	}
	if *snap != "" {
		if _, err := os.Stat(*snap); err != nil {
			return opt, out, fmt.Errorf("--snapshot: %w", err)
		}
	}
	return opt, benchOutputs{*formatFlag, *cpuprofile, *plot}, nil
}

// benchRun runs the benchmark with a progress display and prints the
// report.
func benchRun(opt bench.Options, out benchOutputs) error {
	m := newMeter("bench")
	opt.Progress = func(stage string, done, total int) { m.show(stage, "steps", int64(done), int64(total)) }
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := bench.Run(ctx, opt)
	m.end()
	if err != nil {
		return err
	}
	if out.format == "json" {
		err = bench.WriteJSON(os.Stdout, rep)
	} else {
		err = bench.WriteMarkdown(os.Stdout, rep)
	}
	if err != nil {
		return err
	}
	if out.plot != "" {
		title := fmt.Sprintf("procq bench, %d records: median latency per query", rep.Records)
		if err := writeOut(out.plot, chartOf(rep, title).WriteSVG); err != nil {
			return fmt.Errorf("--plot: %w", err)
		}
	}
	m.done("%d records, %d queries, %d engines", rep.Records, len(rep.Queries), len(rep.Engines))
	return nil
}

// benchChecks rejects flag values out of range.
func benchChecks(format string, n int, profileQuery, cpuprofile string, profileFor, budget time.Duration) error {
	if format != "markdown" && format != "json" {
		return fmt.Errorf("--format must be markdown or json, got %q", format)
	}
	if n <= 0 {
		return fmt.Errorf("--processes must be > 0, got %d", n)
	}
	if profileQuery != "" && cpuprofile == "" {
		return errors.New("--profile-query needs --cpuprofile")
	}
	if profileFor <= 0 {
		return fmt.Errorf("--profile-for must be > 0, got %s", profileFor)
	}
	if budget < 0 {
		return fmt.Errorf("--budget must be >= 0, got %s", budget)
	}
	return nil
}

// chartOf is the chart of a report: each engine's median per query.
func chartOf(rep *bench.Report, title string) benchchart.Chart {
	c := benchchart.Chart{Title: title, Engines: rep.Engines}
	for _, q := range rep.Queries {
		row := make([]time.Duration, len(rep.Engines))
		for i, cell := range q.Cells {
			if i < len(row) {
				row[i] = cell.Median
			}
		}
		c.Queries = append(c.Queries, q.Name)
		c.Median = append(c.Median, row)
	}
	return c
}
