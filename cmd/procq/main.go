// Command procq generates, imports, exports and queries process-status
// snapshots, and serves the GSEKit process_status API over HTTP.
//
// Usage:
//
//	procq gen --out FILE [--processes N] [--seed S] [--requests-out LOG.jsonl [--mix-count N]]
//	procq import --in FILE.jsonl --out FILE
//	procq export --snapshot FILE
//	procq query --snapshot FILE [--request REQ.json | --requests REQS.jsonl]
//	procq serve (--snapshot FILE | --data-dir DIR | --demo) [--addr HOST:PORT] [flags]
//	procq loadtest [--url URL] [--requests REQS.jsonl | --processes N] [--concurrency C | --rate R] [flags]
//	procq bench [flags]
//	procq replay --snapshot FILE --requests LOG.jsonl [flags]
//	procq init --data-dir DIR [--snapshot FILE]
//	procq apply --data-dir DIR --in CHANGES.jsonl [--sync always|second|never]
//	procq checkpoint --data-dir DIR
//	procq repair --data-dir DIR
//	procq publish --nats URL --in CHANGES.jsonl
//	procq publish-snapshot --nats URL --snapshot FILE [--stream-seq N]
//	procq version
//	procq help [COMMAND]
//
// "procq help COMMAND" or "procq COMMAND -h" prints a command's flags
// with their defaults on stdout and exits 0. A usage error (an unknown
// flag, a missing required one) ends with one line on stderr naming the
// flag and exit status 2; every other failure with a one-line error on
// stderr and exit status 1. Wherever a command reads or writes a text file
// (JSON Lines, a request), "-" means stdin or stdout.
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
	{"gen", "generate a synthetic data set (and its request log)", "gen --out FILE [--processes N] [--seed S] [--requests-out LOG.jsonl [--mix-count N]]", runGen},
	{"import", "build a snapshot from JSON Lines records", "import --in FILE.jsonl --out FILE", runImport},
	{"export", "write a snapshot's records as JSON Lines", "export --snapshot FILE [--out FILE.jsonl]", runExport},
	{"query", "answer requests from a snapshot, no server", "query --snapshot FILE [--request REQ.json | --requests REQS.jsonl]", runQuery},
	{"serve", "serve the process_status API over HTTP", serveUsage, runServe},
	{"loadtest", "measure a procq server on this machine", loadtestUsage, runLoadtest},
	{"bench", "compare procq with a full scan, SQLite and buntdb", benchUsage, runBench},
	{"replay", "replay a request log in process and compare answers", replayUsage, runReplay},
	{"init", "create a data directory", initUsage, runInit},
	{"apply", "apply changes to a data directory", applyUsage, runApply},
	{"checkpoint", "write a data directory's snapshot", checkpointUsage, runCheckpoint},
	{"repair", "salvage the valid batches of a damaged journal", "repair --data-dir DIR", runRepair},
	{"publish", "publish changes to a fleet's NATS JetStream stream", publishUsage, runPublish},
	{"publish-snapshot", "upload a snapshot for a fleet's new replicas", publishSnapshotUsage, runPublishSnapshot},
	{"diff", "list the processes that differ between two snapshots (exit 1 if any)", diffUsage, runDiff},
	{"version", "print procq's version, commit and Go version", "version", runVersion},
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

// usage writes the list of commands.
func usage(w io.Writer) {
	fmt.Fprintln(w, "procq answers GSEKit's process_status request from memory.")
	fmt.Fprintln(w, "\nusage: procq COMMAND [flags]")
	fmt.Fprintln(w, "\ncommands:")
	width := len("help")
	for _, c := range commands {
		width = max(width, len(c.name))
	}
	for _, c := range commands {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.summary)
	}
	fmt.Fprintf(w, "  %-*s  %s\n", width, "help", "show the help of procq or of a command")
	fmt.Fprintln(w, "\nsynopsis:")
	for _, c := range commands {
		fmt.Fprintln(w, "  procq "+c.usage)
	}
	fmt.Fprintln(w, "\n\"procq help COMMAND\" or \"procq COMMAND -h\" lists a command's flags with their defaults.")
	fmt.Fprintln(w, "The request contract: docs/API.md.")
	fmt.Fprintln(w, "\nextensions (opt-in, docs/API.md \"Extensions\"):")
	fmt.Fprintln(w, "  versioned answers  X-Procq-Version and ETag on every answer; If-None-Match answers 304")
	fmt.Fprintln(w, `  facets             request keys "facets":[FIELD,...] and "facet_limit":N add data.facets, the counts by value`)
	fmt.Fprintln(w, "  explain            POST ...?explain=1 or procq query --explain add data.explain; serve --slow-log DURATION logs slow ones")
	fmt.Fprintln(w, `  cursor paging      "after":"" (then data.next) instead of "page": keyset pages that hold while data changes`)
	fmt.Fprintln(w, "  snapshot diff      procq diff OLD.snap NEW.snap")
}

func main() { os.Exit(run(os.Args[1:])) }

// run runs the command line args and returns the exit status: 0, 1 on
// failure, 2 on a usage error.
func run(args []string) int {
	if len(args) == 0 {
		usage(os.Stderr)
		return 2
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(rest) == 0 {
			usage(os.Stdout)
			return 0
		}
		// procq help CMD is procq CMD -h.
		name, rest = rest[0], []string{"-h"}
		if name == "help" {
			usage(os.Stdout)
			return 0
		}
	}
	cmd, ok := lookup(name)
	if !ok {
		fmt.Fprintf(os.Stderr, "procq: unknown command %q (procq help lists them)\n", name)
		return 2
	}
	running = cmd
	return exitCode(cmd.name, cmd.run(rest))
}

// exitCode prints err, if it is to be printed, and returns the exit status.
func exitCode(name string, err error) int {
	var ue *usageError
	var es *exitStatus
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &es):
		if es.err != nil {
			fmt.Fprintf(os.Stderr, "procq %s: %v\n", name, es.err)
		}
		return es.code
	case errors.Is(err, errQueryFailed):
		return 1
	case errors.As(err, &ue):
		fmt.Fprintf(os.Stderr, "procq %s: %v (procq help %s lists the flags)\n", name, err, name)
		return 2
	default:
		fmt.Fprintf(os.Stderr, "procq %s: %v\n", name, err)
		return 1
	}
}
