// Command benchchart draws the median latency table of a `procq bench`
// markdown report as an SVG chart:
//
//	go run ./internal/tools/benchchart -in docs/BENCHMARKS.md -out docs/bench-latency.svg
//
// `make chart` runs it on docs/BENCHMARKS.md.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/procq/procq/internal/benchchart"
)

func main() {
	in := flag.String("in", "docs/BENCHMARKS.md", "markdown report holding the median latency table")
	out := flag.String("out", "docs/bench-latency.svg", "SVG file to write")
	title := flag.String("title", "procq bench, 1,000,000 records: median latency per query", "chart title")
	flag.Parse()
	if err := run(*in, *out, *title); err != nil {
		fmt.Fprintln(os.Stderr, "benchchart:", err)
		os.Exit(1)
	}
}

func run(in, out, title string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	c, err := benchchart.ParseMarkdown(f)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	c.Title = title
	w, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := c.WriteSVG(w); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}
