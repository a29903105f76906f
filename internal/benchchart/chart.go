// Package benchchart draws the median latency of each engine on each
// query of a `procq bench` run as an SVG dot plot, one row per query, on
// a log scale: the picture at the top of docs/BENCHMARKS.md, and the
// file `procq bench --plot` writes.
//
// The SVG is written by hand rather than with a plotting library: a dot
// plot needs circles, lines and text only, the output is deterministic
// text that diffs and reviews in git, renders on GitHub, and the module
// (which embedders import) takes no plotting or font dependencies.
package benchchart

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Chart is the data of one chart.
type Chart struct {
	// Title is printed above the plot.
	Title string
	// Engines names the series, procq first.
	Engines []string
	// Queries names the rows, top to bottom.
	Queries []string
	// Median holds Median[q][e], the median latency of engine e on query
	// q; 0 means not measured and draws nothing.
	Median [][]time.Duration
}

// ErrNoTable is returned by ParseMarkdown when the text holds no median
// latency table.
var ErrNoTable = errors.New("benchchart: no \"| query | count | procq |\" table found")

// ParseMarkdown reads the first median latency table of a markdown
// report (`procq bench` output, docs/BENCHMARKS.md): a header row
// "| query | count | procq | ENGINE... |", then one row per query whose
// cells are durations such as "4.18 µs" or "277 ms (66,382×)".
func ParseMarkdown(r io.Reader) (Chart, error) {
	var c Chart
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	in := false
	for line := 1; sc.Scan(); line++ {
		cells := splitRow(sc.Text())
		switch {
		case !in && len(cells) > 3 && cells[0] == "query" && cells[1] == "count" && cells[2] == "procq":
			in, c.Engines = true, cells[2:]
		case in && len(cells) > 0 && strings.HasPrefix(cells[0], "---"):
		case in && len(cells) == len(c.Engines)+2:
			row := make([]time.Duration, len(c.Engines))
			for i, cell := range cells[2:] {
				d, err := parseDuration(cell)
				if err != nil {
					return c, fmt.Errorf("line %d, %s on %s: %w", line, cells[0], c.Engines[i], err)
				}
				row[i] = d
			}
			c.Queries = append(c.Queries, cells[0])
			c.Median = append(c.Median, row)
		case in:
			return c, sc.Err()
		}
	}
	if !in {
		return c, ErrNoTable
	}
	return c, sc.Err()
}

// splitRow returns the trimmed cells of a markdown table row, nil for
// any other line.
func splitRow(s string) []string {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "|") || !strings.HasSuffix(s, "|") || len(s) < 2 {
		return nil
	}
	cells := strings.Split(s[1:len(s)-1], "|")
	for i := range cells {
		cells[i] = strings.TrimSpace(cells[i])
	}
	return cells
}

// units are the duration units of a report, longest name first.
var units = []struct {
	name string
	d    time.Duration
}{{"ns", time.Nanosecond}, {"µs", time.Microsecond}, {"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}}

// parseDuration reads "4.18 µs" (anything after the unit, such as a
// ratio, is ignored); "", "-" and "—" are 0, not measured.
func parseDuration(cell string) (time.Duration, error) {
	f := strings.Fields(cell)
	if len(f) == 0 || f[0] == "-" || f[0] == "—" {
		return 0, nil
	}
	if len(f) < 2 {
		return 0, fmt.Errorf("duration %q: want NUMBER UNIT", cell)
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(f[0], ",", ""), 64)
	if err != nil || v < 0 || math.IsInf(v, 0) {
		return 0, fmt.Errorf("duration %q: bad number", cell)
	}
	for _, u := range units {
		if f[1] == u.name {
			return time.Duration(v * float64(u.d)), nil
		}
	}
	return 0, fmt.Errorf("duration %q: unknown unit %q", cell, f[1])
}
