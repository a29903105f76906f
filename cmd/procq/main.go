// Command procq generates, imports, exports and queries process-status
// snapshots, and serves the GSEKit process_status API over HTTP.
//
// Usage:
//
//	procq gen --out FILE [--processes N] [--seed S]
//	procq import --in FILE.jsonl --out FILE
//	procq export --snapshot FILE
//	procq query --snapshot FILE [--request REQ.json | --requests REQS.jsonl]
//	procq serve [--snapshot FILE] [--addr HOST:PORT] [flags]
//	procq loadtest --url URL (--requests REQS.jsonl | --mix-processes N) [flags]
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

type command struct {
	run   func(args []string) error
	usage string
}

var commands = map[string]command{
	"gen":      {runGen, "gen --out FILE [--processes N] [--seed S] [--requests-out LOG.jsonl [--requests-count N]]"},
	"import":   {runImport, "import --in FILE.jsonl --out FILE"},
	"export":   {runExport, "export --snapshot FILE"},
	"query":    {runQuery, "query --snapshot FILE [--request REQ.json | --requests REQS.jsonl]"},
	"serve":    {runServe, serveUsage},
	"loadtest": {runLoadtest, loadtestUsage},
	"bench":    {runBench, benchUsage},
	"replay":   {runReplay, replayUsage},

	"init":       {runInit, initUsage},
	"apply":      {runApply, applyUsage},
	"checkpoint": {runCheckpoint, checkpointUsage},
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: procq COMMAND [flags]")
	for _, name := range []string{"gen", "import", "export", "query", "serve", "loadtest", "bench", "replay", "init", "apply", "checkpoint"} {
		fmt.Fprintln(w, "  procq "+commands[name].usage)
	}
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage(os.Stderr)
		os.Exit(2)
	}
	cmd, ok := commands[os.Args[1]]
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
