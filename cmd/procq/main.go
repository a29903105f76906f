// Command procq generates, imports, exports and queries process-status
// snapshots, and serves the GSEKit process_status API over HTTP.
//
// Usage:
//
//	procq gen --out FILE [--processes N] [--seed S]
//	procq import --in FILE.jsonl --out FILE
//	procq export --snapshot FILE
//	procq query --snapshot FILE [--request REQ.json | --requests REQS.jsonl]
//	procq serve (--snapshot FILE | --data-dir DIR | --demo) [--addr HOST:PORT] [flags]
//	procq loadtest --url URL (--requests REQS.jsonl | --mix-processes N) [--concurrency C | --rate R] [flags]
//	procq bench [flags]
//	procq replay --snapshot FILE --requests LOG.jsonl [flags]
//	procq init --data-dir DIR [--snapshot FILE]
//	procq apply --data-dir DIR --in CHANGES.jsonl [--sync always|second|never]
//	procq checkpoint --data-dir DIR
//
// Every failure ends with a one-line error on stderr and a non-zero exit.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// errQueryFailed makes `procq query` exit 1 after printing an error
// envelope; it is not printed itself.
var errQueryFailed = errors.New("query answered result false")

// command is one procq command: the table below drives both the usage
// text and the dispatch.
type command struct {
	name    string
	summary string
	usage   string
	run     func(args []string) error
}

// commands lists every command once, in usage order.
var commands = []command{
	{"gen", "generate a synthetic data set (and its request log)", "gen --out FILE [--processes N] [--seed S] [--requests-out LOG.jsonl [--requests-count N]]", runGen},
	{"import", "build a snapshot from JSON Lines records", "import --in FILE.jsonl --out FILE", runImport},
	{"export", "write a snapshot's records as JSON Lines", "export --snapshot FILE", runExport},
	{"query", "answer requests from a snapshot, no server", "query --snapshot FILE [--request REQ.json | --requests REQS.jsonl]", runQuery},
	{"serve", "serve the process_status API over HTTP", serveUsage, runServe},
	{"loadtest", "measure a procq server on this machine", loadtestUsage, runLoadtest},
	{"bench", "compare procq with a full scan, SQLite and buntdb", benchUsage, runBench},
	{"replay", "replay a request log in process and compare answers", replayUsage, runReplay},
	{"init", "create a data directory", initUsage, runInit},
	{"apply", "apply changes to a data directory", applyUsage, runApply},
	{"checkpoint", "write a data directory's snapshot", checkpointUsage, runCheckpoint},
}

// lookup returns the command called name.
func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: procq COMMAND [flags]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nflags:")
	for _, c := range commands {
		fmt.Fprintln(w, "  procq "+c.usage)
	}
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage(os.Stderr)
		os.Exit(2)
	}
	cmd, ok := lookup(os.Args[1])
	if !ok {
		fmt.Fprintf(os.Stderr, "procq: unknown command %q (try: procq help)\n", os.Args[1])
		os.Exit(2)
	}
	err := cmd.run(os.Args[2:])
	switch {
	case err == nil:
	case errors.Is(err, errQueryFailed):
		os.Exit(1)
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprintln(os.Stderr, "usage: procq "+cmd.usage)
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "procq %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// newFlags returns a flag set that reports errors instead of printing them.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseFlags parses args and rejects positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// required reports a missing required flag.
func required(name, value string) error {
	if value == "" {
		return fmt.Errorf("--%s is required", name)
	}
	return nil
}

// isTerminal reports whether f is a character device, such as a terminal.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
