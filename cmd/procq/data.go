package main

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"procq/internal/synth"
	"procq/record"
	"procq/snapshot"
)

// progress prints a counter on stderr when it is a terminal.
type progress struct {
	label string
	total int
	on    bool
	last  time.Time
}

func newProgress(label string, total int) *progress {
	return &progress{label: label, total: total, on: isTerminal(os.Stderr)}
}

func (p *progress) step(done int) {
	if !p.on || (done != p.total && time.Since(p.last) < 200*time.Millisecond) {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(os.Stderr, "\r%s: %d/%d (%d%%)", p.label, done, p.total, done*100/max(p.total, 1))
	if done == p.total {
		fmt.Fprintln(os.Stderr)
	}
}

func runGen(args []string) error {
	fs := newFlags("gen")
	out := fs.String("out", "", "snapshot `FILE` to write (required)")
	n := processesFlag(fs)
	seed := seedFlag(fs)
	reqOut := fs.String("requests-out", "", "also write the request mix for the data set to `FILE` (JSON Lines)")
	reqCount := mixCountFlag(fs)
	alias(fs, "requests-count", "mix-count")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required("out", *out); err != nil {
		return err
	}
	if *reqCount < 0 {
		return usageErrorf("--mix-count must be >= 0, got %d", *reqCount)
	}
	if *n < 0 {
		return usageErrorf("--processes must be >= 0, got %d", *n)
	}
	start := time.Now()
	w, err := snapshot.Create(*out)
	if err != nil {
		return err
	}
	pr := newProgress("gen", *n)
	done := 0
	err = synth.Generate(synth.Options{Processes: *n, Seed: *seed}, func(r *record.Record) error {
		done++
		pr.step(done)
		return w.Append(r)
	})
	if err != nil {
		return errors.Join(err, w.Abort())
	}
	if err := w.Commit(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "gen: wrote %d processes to %s in %s\n", *n, *out, time.Since(start).Round(time.Millisecond))
	if *reqOut != "" {
		return writeRequestLog(*reqOut, synth.Options{Processes: *n, Seed: *seed}, *reqCount)
	}
	return nil
}

func runImport(args []string) error {
	fs := newFlags("import")
	in := fs.String("in", "", "JSON Lines `FILE` of records, \"-\" for stdin (required)")
	out := fs.String("out", "", "snapshot `FILE` to write (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required("in", *in); err != nil {
		return err
	}
	if err := required("out", *out); err != nil {
		return err
	}
	f, name, err := openIn(*in)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := snapshot.Create(*out)
	if err != nil {
		return err
	}
	if err := importLines(f, name, w); err != nil {
		return errors.Join(err, w.Abort())
	}
	return w.Commit()
}

// importLines appends each record line of r to w, naming file and line in
// any error. Blank lines are skipped.
func importLines(r io.Reader, name string, w *snapshot.Writer) error {
	br := bufio.NewReaderSize(r, 1<<20)
	seen := make(map[int64]int)
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(b)) > 0 {
			rec := new(record.Record)
			if jerr := json.Unmarshal(b, rec); jerr != nil {
				return fmt.Errorf("%s:%d: %w", name, line, jerr)
			}
			if first, dup := seen[rec.ProcessID]; dup {
				return fmt.Errorf("%s:%d: duplicate bk_process_id %d (first on line %d)", name, line, rec.ProcessID, first)
			}
			seen[rec.ProcessID] = line
			if aerr := w.Append(rec); aerr != nil {
				return aerr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s:%d: %w", name, line, err)
		}
	}
}

// runExport writes a snapshot's records as JSON Lines, ascending
// bk_process_id.
func runExport(args []string) error {
	fs := newFlags("export")
	path := fs.String("snapshot", "", "snapshot `FILE` to read (required)")
	outPath := fs.String("out", "-", "JSON Lines `FILE` to write, \"-\" for stdout")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required("snapshot", *path); err != nil {
		return err
	}
	var recs []*record.Record
	if _, err := snapshot.Read(*path, func(r *record.Record) error {
		recs = append(recs, r)
		return nil
	}); err != nil {
		return err
	}
	slices.SortFunc(recs, func(a, b *record.Record) int { return cmp.Compare(a.ProcessID, b.ProcessID) })
	return writeOut(*outPath, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		var buf []byte
		for _, r := range recs {
			buf = append(r.AppendJSON(buf[:0], 0), '\n')
			if _, err := bw.Write(buf); err != nil {
				return err
			}
		}
		return bw.Flush()
	})
}
