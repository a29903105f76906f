package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/procq/procq/engine"
	"github.com/procq/procq/internal/synth"
	"github.com/procq/procq/record"
	"github.com/procq/procq/snapshot"
)

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
	m := newMeter("gen")
	var recs []*record.Record
	err := synth.Generate(synth.Options{Processes: *n, Seed: *seed}, func(r *record.Record) error {
		if len(recs)%4096 == 0 {
			m.show("generating records", "records", int64(len(recs)), int64(*n))
		}
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		return err
	}
	if err := writeIndexed(m, *out, recs); err != nil {
		return err
	}
	m.done("wrote %d processes to %s (%s)", *n, *out, fileSize(*out))
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
	m := newMeter("import")
	size := int64(-1)
	if st, err := os.Stat(*in); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	cr := &countingReader{r: f}
	var recs []*record.Record
	records, err := importLines(cr, name, func(r *record.Record) error {
		if err := r.Check(); err != nil {
			return err
		}
		recs = append(recs, r)
		return nil
	}, func(n int) { m.show("reading "+name, "bytes", cr.n, size) })
	if err != nil {
		return err
	}
	if err := writeIndexed(m, *out, recs); err != nil {
		return err
	}
	m.done("%d records, %s read from %s, snapshot %s (%s)", records, byteSize(cr.n), name, *out, fileSize(*out))
	return nil
}

// writeIndexed indexes recs and writes them as an index snapshot at
// path, the image of the indexes that loading then reads back.
func writeIndexed(m *meter, path string, recs []*record.Record) error {
	m.show("indexing records", "", 0, -1)
	e, err := engine.New(recs)
	if err != nil {
		return err
	}
	m.show("writing "+path, "", 0, -1)
	return e.WriteSnapshot(context.Background(), path)
}

// importLines passes each record line of r to add, naming file and line
// in any error, and returns the number of records. Blank lines are
// skipped. It calls progress with the records so far every 4096 records.
func importLines(r io.Reader, name string, add func(*record.Record) error, progress func(int)) (int, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	seen := make(map[int64]int)
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if len(seen)%4096 == 0 {
			progress(len(seen))
		}
		if len(bytes.TrimSpace(b)) > 0 {
			rec := new(record.Record)
			if jerr := json.Unmarshal(b, rec); jerr != nil {
				return 0, fmt.Errorf("%s:%d: %w", name, line, jerr)
			}
			if first, dup := seen[rec.ProcessID]; dup {
				return 0, fmt.Errorf("%s:%d: duplicate bk_process_id %d (first on line %d)", name, line, rec.ProcessID, first)
			}
			seen[rec.ProcessID] = line
			if aerr := add(rec); aerr != nil {
				return 0, fmt.Errorf("%s:%d: %w", name, line, aerr)
			}
		}
		if err == io.EOF {
			progress(len(seen))
			return len(seen), nil
		}
		if err != nil {
			return 0, fmt.Errorf("%s:%d: %w", name, line, err)
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
	m := newMeter("export")
	m.show("reading "+*path, "", 0, -1)
	var recs []*record.Record
	if _, err := snapshot.Read(*path, func(r *record.Record) error {
		recs = append(recs, r)
		return nil
	}); err != nil {
		return err
	}
	slices.SortFunc(recs, func(a, b *record.Record) int { return cmp.Compare(a.ProcessID, b.ProcessID) })
	written := int64(0)
	err := writeOut(*outPath, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		var buf []byte
		for i, r := range recs {
			if i%4096 == 0 {
				m.show("writing records", "records", int64(i), int64(len(recs)))
			}
			buf = append(r.AppendJSON(buf[:0], 0), '\n')
			written += int64(len(buf))
			if _, err := bw.Write(buf); err != nil {
				return err
			}
		}
		m.show("writing records", "records", int64(len(recs)), int64(len(recs)))
		return bw.Flush()
	})
	if err != nil {
		return err
	}
	m.done("%d records, %s written to %s", len(recs), byteSize(written), outName(*outPath))
	return nil
}

// fileSize is the size of the file at path for a summary line.
func fileSize(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return "size unknown"
	}
	return byteSize(st.Size())
}

// byteSize formats n bytes for a summary line.
func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// outName names the file a flag writes for messages.
func outName(path string) string {
	if path == "-" {
		return "stdout"
	}
	return path
}
