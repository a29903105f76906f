package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/procq/procq/engine"
	"github.com/procq/procq/internal/baseline"
	"github.com/procq/procq/internal/synth"
	"github.com/procq/procq/record"
	"github.com/procq/procq/snapshot"
)

// Options configure Run.
type Options struct {
	// Processes is the size of the synth data set to generate when
	// Snapshot is empty.
	Processes int
	// Seed selects the synth data set.
	Seed int64
	// Snapshot, when set, is an existing snapshot file to use instead of
	// a generated one.
	Snapshot string
	// TempDir is where the generated snapshot is written (and removed
	// afterwards); "" means the system's temporary directory.
	TempDir string
	// Engines limits the baselines run beside procq to these names
	// ("scan", "sqlite", "buntdb"); nil means all of them.
	Engines []string
	// Budget is how long each query is repeated on each engine at most
	// (after MinRuns), and MinRuns/MaxRuns bound the repetitions.
	Budget           time.Duration
	MinRuns, MaxRuns int
	// Progress, when not nil, is told what Run is doing: a stage name and
	// how far along it is.
	Progress func(stage string, done, total int)
	// CPUProfile, when not nil, receives a CPU profile (runtime/pprof) of
	// procq answering ProfileQuery, or its slowest query when that is "",
	// over and over for ProfileFor (default 3 s) after the timings.
	CPUProfile   io.Writer
	ProfileQuery string
	ProfileFor   time.Duration
}

// QuickOptions are the options of `procq bench --quick`: 100,000
// processes and short timings, well under a minute on two cores.
func QuickOptions() Options {
	return Options{Processes: 100_000, Seed: 1, Budget: 30 * time.Millisecond, MinRuns: 1, MaxRuns: 200}
}

// FullOptions are the options of a full `procq bench`: 1,000,000
// processes, each query timed for up to a second.
func FullOptions() Options {
	return Options{Processes: 1_000_000, Seed: 1, Budget: time.Second, MinRuns: 5, MaxRuns: 2000}
}

// Report is the outcome of a benchmark run.
type Report struct {
	// Records is the number of records loaded into every engine.
	Records int `json:"records"`
	// Seed is the synth seed (0 with an existing snapshot).
	Seed int64 `json:"seed"`
	// Snapshot names the snapshot file used, when it was given.
	Snapshot string `json:"snapshot,omitempty"`
	// BizID is the business every query asks about, BizRecords its size.
	BizID      int64 `json:"bk_biz_id"`
	BizRecords int   `json:"biz_records"`
	// Machine describes where the run happened.
	Machine Machine `json:"machine"`
	// Procq is what loading cost procq.
	Procq LoadStats `json:"procq"`
	// Loads is how long each engine took to load the records.
	Loads []EngineLoad `json:"loads"`
	// Engines are the engine names in report order, procq first.
	Engines []string `json:"engines"`
	// Queries are the results, in suite order.
	Queries []QueryResult `json:"queries"`
	// Profiled names the query of the CPU profile, if one was taken.
	Profiled string `json:"profiled,omitempty"`
	// Phases is how long each phase of the run took: generate, load,
	// check, time (and profile).
	Phases []Phase `json:"phases"`
}

// Phase is the wall time of one phase of a run.
type Phase struct {
	Name string        `json:"name"`
	Time time.Duration `json:"ns"`
}

// Machine describes the machine a report comes from.
type Machine struct {
	GoVersion  string `json:"go"`
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
}

// LoadStats is procq's load cost.
type LoadStats struct {
	// Load is the time of engine.Load on the snapshot: decoding it and
	// building the indexes.
	Load time.Duration `json:"load_ns"`
	// Build is the part of Load spent building the indexes.
	Build time.Duration `json:"build_ns"`
	// IndexBytes is the size of the indexes (engine.IndexSizes), and
	// IndexBytesPerRecord that divided by the number of records.
	IndexBytes          uint64  `json:"index_bytes"`
	IndexBytesPerRecord float64 `json:"index_bytes_per_record"`
	// HeapBytesPerRecord is the live heap the loaded engine holds
	// (records and indexes) divided by the number of records.
	HeapBytesPerRecord float64 `json:"heap_bytes_per_record"`
}

// EngineLoad is how long one engine took to take in the records.
type EngineLoad struct {
	Engine string        `json:"engine"`
	Time   time.Duration `json:"ns"`
}

// QueryResult is one query's timings on every engine.
type QueryResult struct {
	Name    string `json:"name"`
	Feature string `json:"feature"`
	Request string `json:"request"`
	// Count is the number of matches (the same on every engine).
	Count uint64 `json:"count"`
	// Cells hold one timing per engine, in Report.Engines order.
	Cells []Cell `json:"cells"`
}

// Cell is one query timed on one engine.
type Cell struct {
	Engine string `json:"engine"`
	// Runs is the number of timed repetitions.
	Runs int `json:"runs"`
	// Median and P99 are latencies over the runs (nearest rank).
	Median time.Duration `json:"median_ns"`
	P99    time.Duration `json:"p99_ns"`
	// Allocs and Bytes are Go heap allocations per query (memory that
	// SQLite's C-to-Go translated allocator takes is not counted).
	Allocs float64 `json:"allocs_per_op"`
	Bytes  float64 `json:"bytes_per_op"`
	// Ratio is Median divided by procq's median for the same query.
	Ratio float64 `json:"ratio_to_procq"`
}

// MismatchError reports the queries on which an engine disagrees with
// procq.
type MismatchError struct {
	Mismatches []string
}

// Error lists every mismatch, one per line.
func (e *MismatchError) Error() string {
	return fmt.Sprintf("bench: %d answers differ from procq:\n  %s", len(e.Mismatches), strings.Join(e.Mismatches, "\n  "))
}

// Run loads the data set into every engine, checks their answers agree
// and times the suite. It returns a *MismatchError, and no report, when
// any engine answers a query differently from procq. The phases are
// named in Report.Phases: generate, load, check, time, profile.
func Run(ctx context.Context, opt Options) (*Report, error) {
	r := &run{opt: withDefaults(opt), start: time.Now()}
	r.progress = r.opt.Progress
	if r.progress == nil {
		r.progress = func(string, int, int) {}
	}
	r.rep = &Report{Seed: opt.Seed, Snapshot: opt.Snapshot, Machine: Machine{
		GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH,
		CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
	}}
	defer r.close()
	path := opt.Snapshot
	if path == "" {
		dir, err := os.MkdirTemp(opt.TempDir, "procq-bench-")
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "bench.snap")
		if err := generate(path, r.opt, r.progress); err != nil {
			return nil, err
		}
		r.phase("generate")
	} else {
		r.rep.Seed = 0
	}
	steps := []struct {
		name string
		do   func(context.Context, string) error
	}{
		{"load", r.load}, {"check", r.check}, {"time", r.time}, {"profile", r.profile},
	}
	for _, s := range steps {
		if s.name == "profile" && opt.CPUProfile == nil {
			continue
		}
		if err := s.do(ctx, path); err != nil {
			return nil, err
		}
		r.phase(s.name)
	}
	return r.rep, nil
}

// run is the state of one Run, phase after phase.
type run struct {
	opt      Options
	progress func(stage string, done, total int)
	rep      *Report
	start    time.Time // of the current phase
	recs     []*record.Record
	engines  []Engine // procq first
	suite    []Query
	answers  []Answer
}

// phase records the wall time of the phase that just ended.
func (r *run) phase(name string) {
	r.rep.Phases = append(r.rep.Phases, Phase{name, time.Since(r.start)})
	r.start = time.Now()
}

func (r *run) close() {
	for _, e := range r.engines {
		e.Close()
	}
}

// load loads procq from the snapshot, then every baseline asked for from
// a decoded copy of the records, and builds the suite.
func (r *run) load(ctx context.Context, path string) error {
	if err := r.loadProcq(path); err != nil {
		return err
	}
	start := time.Now()
	if _, err := snapshot.Read(path, func(rec *record.Record) error {
		r.recs = append(r.recs, rec)
		return nil
	}); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	decode := time.Since(start)
	for _, b := range registry {
		if r.opt.Engines != nil && !slices.Contains(r.opt.Engines, b.name) {
			continue
		}
		start := time.Now()
		e, err := b.load(ctx, r.recs, func(d, t int) { r.progress(b.name+" load", d, t) })
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		r.engines = append(r.engines, e)
		// Every baseline's load includes decoding the snapshot, as procq's does.
		r.rep.Loads = append(r.rep.Loads, EngineLoad{b.name, decode + time.Since(start)})
	}
	for _, e := range r.engines {
		r.rep.Engines = append(r.rep.Engines, e.Name())
	}
	suite, err := Suite(r.recs)
	if err != nil {
		return err
	}
	r.suite = suite
	r.rep.BizID = suite[0].Q.BizID
	_, r.rep.BizRecords, _ = LargestBusiness(r.recs)
	return nil
}

// loadProcq loads the snapshot into procq itself, so its load time is
// the real one, and measures its index and heap size.
func (r *run) loadProcq(path string) error {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r.progress("procq load", 0, 1)
	start := time.Now()
	pe, err := engine.Load(path)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	p := &r.rep.Procq
	p.Load = time.Since(start)
	r.progress("procq load", 1, 1)
	runtime.GC()
	runtime.ReadMemStats(&after)
	r.rep.Records = pe.Len()
	p.Build = pe.BuildTime()
	for _, n := range pe.IndexSizes() {
		p.IndexBytes += n
	}
	if r.rep.Records > 0 {
		p.IndexBytesPerRecord = float64(p.IndexBytes) / float64(r.rep.Records)
		p.HeapBytesPerRecord = (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(r.rep.Records)
	}
	r.rep.Loads = append(r.rep.Loads, EngineLoad{"procq", p.Load})
	r.engines = append(r.engines, &baseline.Procq{E: pe})
	return nil
}

// check asks every engine every query and compares with procq.
func (r *run) check(ctx context.Context, _ string) error {
	answers, err := Check(ctx, r.engines, r.suite, func(d, t int) { r.progress("check", d, t) })
	r.answers = answers
	return err
}

// time times every query on every engine.
func (r *run) time(ctx context.Context, _ string) error {
	total, done := len(r.suite)*len(r.engines), 0
	for i, q := range r.suite {
		qr := QueryResult{Name: q.Name, Feature: q.Feature, Request: string(q.Body), Count: r.answers[i].Count}
		// One collection per query, not per engine: with a large heap a
		// forced collection costs more than the fast engines' whole cell.
		runtime.GC()
		for _, e := range r.engines {
			c, err := timeQuery(ctx, e, q, r.opt)
			if err != nil {
				return err
			}
			qr.Cells = append(qr.Cells, c)
			done++
			r.progress("time", done, total)
		}
		for j := range qr.Cells {
			if base := qr.Cells[0].Median; base > 0 {
				qr.Cells[j].Ratio = float64(qr.Cells[j].Median) / float64(base)
			}
		}
		r.rep.Queries = append(r.rep.Queries, qr)
	}
	return nil
}

// profile profiles procq (the first engine), see profile.
func (r *run) profile(ctx context.Context, _ string) error {
	return profile(ctx, r.engines[0], r.suite, r.rep, r.opt)
}

// profile takes the CPU profile of opt.ProfileQuery (or the query on which
// procq is slowest) answered by e, repeatedly, for opt.ProfileFor.
func profile(ctx context.Context, e Engine, suite []Query, rep *Report, opt Options) error {
	name := opt.ProfileQuery
	if name == "" {
		var worst time.Duration
		for _, qr := range rep.Queries {
			if m := qr.Cells[0].Median; m > worst {
				worst, name = m, qr.Name
			}
		}
	}
	i := slices.IndexFunc(suite, func(q Query) bool { return q.Name == name })
	if i < 0 {
		return fmt.Errorf("bench: no query named %q to profile", name)
	}
	d := opt.ProfileFor
	if d <= 0 {
		d = 3 * time.Second
	}
	if err := pprof.StartCPUProfile(opt.CPUProfile); err != nil {
		return fmt.Errorf("bench: cpu profile: %w", err)
	}
	defer pprof.StopCPUProfile()
	for start := time.Now(); time.Since(start) < d; {
		if _, err := e.Query(ctx, suite[i].Q); err != nil {
			return fmt.Errorf("bench: profile %s: %w", name, err)
		}
	}
	rep.Profiled = name
	return nil
}

func withDefaults(opt Options) Options {
	d := QuickOptions()
	if opt.Processes <= 0 {
		opt.Processes = d.Processes
	}
	if opt.Budget <= 0 {
		opt.Budget = d.Budget
	}
	if opt.MinRuns <= 0 {
		opt.MinRuns = d.MinRuns
	}
	if opt.MaxRuns < opt.MinRuns {
		opt.MaxRuns = max(d.MaxRuns, opt.MinRuns)
	}
	return opt
}

// generate writes the synth data set of opt to path.
func generate(path string, opt Options, progress func(string, int, int)) error {
	w, err := snapshot.Create(path)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	done := 0
	err = synth.Generate(synth.Options{Processes: opt.Processes, Seed: opt.Seed}, func(r *record.Record) error {
		done++
		if done%4096 == 0 || done == opt.Processes {
			progress("generate", done, opt.Processes)
		}
		return w.Append(r)
	})
	if err != nil {
		return errors.Join(fmt.Errorf("bench: generate: %w", err), w.Abort())
	}
	if err := w.Commit(); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}

// Check asks every engine every query once and compares each answer with
// the first engine's (procq's). It returns the first engine's answers, or
// a *MismatchError listing every disagreement.
func Check(ctx context.Context, engines []Engine, suite []Query, progress func(done, total int)) ([]Answer, error) {
	ref := make([]Answer, len(suite))
	var bad []string
	done := 0
	for i, q := range suite {
		for j, e := range engines {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("bench: %w", err)
			}
			a, err := e.Query(ctx, q.Q)
			if err != nil {
				return nil, fmt.Errorf("bench: %s on %s: %w", q.Name, e.Name(), err)
			}
			if j == 0 {
				ref[i] = a
			} else if !a.Equal(ref[i]) {
				bad = append(bad, fmt.Sprintf("%s: %s answers %v; %s answers %v\n    request: %s",
					q.Name, e.Name(), a, engines[0].Name(), ref[i], q.Body))
			}
			done++
			if progress != nil {
				progress(done, len(suite)*len(engines))
			}
		}
	}
	if bad != nil {
		return nil, &MismatchError{Mismatches: bad}
	}
	return ref, nil
}

// timeQuery repeats q on e at least opt.MinRuns times and then until
// opt.Budget is spent or opt.MaxRuns is reached.
func timeQuery(ctx context.Context, e Engine, q Query, opt Options) (Cell, error) {
	lat := make([]time.Duration, 0, min(opt.MaxRuns, 1024))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	begin := time.Now()
	for len(lat) < opt.MinRuns || (len(lat) < opt.MaxRuns && time.Since(begin) < opt.Budget) {
		if err := ctx.Err(); err != nil {
			return Cell{}, fmt.Errorf("bench: %w", err)
		}
		start := time.Now()
		if _, err := e.Query(ctx, q.Q); err != nil {
			return Cell{}, fmt.Errorf("bench: %s on %s: %w", q.Name, e.Name(), err)
		}
		lat = append(lat, time.Since(start))
	}
	runtime.ReadMemStats(&after)
	slices.Sort(lat)
	n := float64(len(lat))
	return Cell{
		Engine: e.Name(),
		Runs:   len(lat),
		Median: percentile(lat, 50),
		P99:    percentile(lat, 99),
		Allocs: float64(after.Mallocs-before.Mallocs) / n,
		Bytes:  float64(after.TotalAlloc-before.TotalAlloc) / n,
	}, nil
}

// percentile returns the nearest-rank p-th percentile of sorted.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 × n)
	return sorted[max(rank, 1)-1]
}
