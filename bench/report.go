package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// WriteJSON writes the report as indented JSON; durations are in
// nanoseconds.
func WriteJSON(w io.Writer, rep *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("bench: write report: %w", err)
	}
	return nil
}

// WriteMarkdown writes the report as two Markdown tables: median latency
// with the ratio to procq per query and engine, then every timing.
func WriteMarkdown(w io.Writer, rep *Report) error {
	var b strings.Builder
	src := fmt.Sprintf("synth seed %d", rep.Seed)
	if rep.Snapshot != "" {
		src = "snapshot " + rep.Snapshot
	}
	fmt.Fprintf(&b, "%s records (%s); every query asks about bk_biz_id %d (%s records).\n",
		thousands(int64(rep.Records)), src, rep.BizID, thousands(int64(rep.BizRecords)))
	m := rep.Machine
	fmt.Fprintf(&b, "%s %s/%s, %d CPUs, GOMAXPROCS %d.\n\n", m.GoVersion, m.OS, m.Arch, m.CPUs, m.GOMAXPROCS)
	p := rep.Procq
	fmt.Fprintf(&b, "procq: load %s (snapshot decode and index build), index build %s, indexes %s = %.1f B/record, heap %.0f B/record (records and indexes).\n",
		Duration(p.Load), Duration(p.Build), bytesText(p.IndexBytes), p.IndexBytesPerRecord, p.HeapBytesPerRecord)
	var loads []string
	for _, l := range rep.Loads {
		loads = append(loads, l.Engine+" "+Duration(l.Time))
	}
	fmt.Fprintf(&b, "Load time (each includes decoding the snapshot): %s.\n", strings.Join(loads, ", "))
	var phases []string
	for _, p := range rep.Phases {
		phases = append(phases, p.Name+" "+Duration(p.Time))
	}
	fmt.Fprintf(&b, "Run phases: %s.\n\n", strings.Join(phases, ", "))

	b.WriteString("Median latency per query; in brackets the ratio to procq's median (higher: procq is faster).\n\n")
	b.WriteString("| query | count |")
	for _, e := range rep.Engines {
		b.WriteString(" " + e + " |")
	}
	b.WriteString("\n|---|---:|")
	b.WriteString(strings.Repeat("---:|", len(rep.Engines)))
	b.WriteString("\n")
	for _, q := range rep.Queries {
		fmt.Fprintf(&b, "| %s | %s |", q.Name, thousands(int64(q.Count)))
		for i, c := range q.Cells {
			if i == 0 {
				fmt.Fprintf(&b, " %s |", Duration(c.Median))
				continue
			}
			fmt.Fprintf(&b, " %s (%s) |", Duration(c.Median), Ratio(c.Ratio))
		}
		b.WriteString("\n")
	}

	b.WriteString("\nEvery timing: runs, median and p99 latency (nearest rank), Go heap allocations per query.\n\n")
	b.WriteString("| query | engine | runs | median | p99 | allocs/op | bytes/op | × procq |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|\n")
	for _, q := range rep.Queries {
		for _, c := range q.Cells {
			fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %s | %s | %s |\n", q.Name, c.Engine, c.Runs,
				Duration(c.Median), Duration(c.P99), thousands(int64(c.Allocs+0.5)),
				bytesText(uint64(c.Bytes+0.5)), Ratio(c.Ratio))
		}
	}
	b.WriteString("\nQueries:\n\n")
	for _, q := range rep.Queries {
		fmt.Fprintf(&b, "- `%s`: %s. `%s`\n", q.Name, q.Feature, q.Request)
	}
	if rep.Profiled != "" {
		fmt.Fprintf(&b, "\nCPU profile taken of procq answering %s.\n", rep.Profiled)
	}
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("bench: write report: %w", err)
	}
	return nil
}

// Duration formats d with three significant digits: 850 ns, 12.3 µs,
// 4.56 ms, 1.23 s.
func Duration(d time.Duration) string {
	f := float64(d)
	unit := "ns"
	switch {
	case d >= time.Second:
		f, unit = f/1e9, "s"
	case d >= time.Millisecond:
		f, unit = f/1e6, "ms"
	case d >= time.Microsecond:
		f, unit = f/1e3, "µs"
	default:
		return strconv.FormatInt(int64(d), 10) + " ns"
	}
	switch {
	case f >= 100:
		return strconv.FormatFloat(f, 'f', 0, 64) + " " + unit
	case f >= 10:
		return strconv.FormatFloat(f, 'f', 1, 64) + " " + unit
	}
	return strconv.FormatFloat(f, 'f', 2, 64) + " " + unit
}

// Ratio formats a ratio to procq: 0.52×, 3.4×, 27×, 1,234×.
func Ratio(r float64) string {
	switch {
	case r == 0:
		return "–"
	case r < 10:
		return strconv.FormatFloat(r, 'f', 2, 64) + "×"
	case r < 100:
		return strconv.FormatFloat(r, 'f', 0, 64) + "×"
	}
	return thousands(int64(r+0.5)) + "×"
}

// thousands writes n with comma separators.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// bytesText formats a byte count: 512 B, 12.3 KiB, 4.56 MiB.
func bytesText(n uint64) string {
	f := float64(n)
	switch {
	case n >= 1<<30:
		return strconv.FormatFloat(f/(1<<30), 'f', 2, 64) + " GiB"
	case n >= 1<<20:
		return strconv.FormatFloat(f/(1<<20), 'f', 2, 64) + " MiB"
	case n >= 1<<10:
		return strconv.FormatFloat(f/(1<<10), 'f', 1, 64) + " KiB"
	}
	return strconv.FormatUint(n, 10) + " B"
}
