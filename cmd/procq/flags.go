package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/procq/procq/internal/buildinfo"
	"github.com/procq/procq/internal/synth"
)

// running is the command being run, set by run before its run function
// is called: its flag set's help names it.
var running command

// usageError is a command line the command cannot run: an unknown flag, a
// missing or malformed one. It exits 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usageErrorf returns a usage error with a formatted message.
func usageErrorf(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// aliasPrefix starts the usage text of a hidden alias, followed by the
// flag's current name.
const aliasPrefix = "\x00alias of "

// newFlags returns a flag set whose errors parseFlags reports: nothing
// is printed while parsing.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	lastFlags = fs
	return fs
}

// lastFlags is the flag set newFlags made last: the tests read a
// command's flags from it.
var lastFlags *flag.FlagSet

// alias makes old, a former spelling of the flag name, set the same
// value; it is left out of the help, and using it prints a warning.
func alias(fs *flag.FlagSet, old, name string) {
	fs.Var(fs.Lookup(name).Value, old, aliasPrefix+name)
}

// parseFlags parses args and rejects positional arguments. On -h or
// --help it prints the command's help on stdout and returns
// flag.ErrHelp; any other error is a *usageError.
func parseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		printHelp(os.Stdout, fs)
		return flag.ErrHelp
	case err != nil:
		// The flag package names flags with one dash; the help uses two.
		msg := strings.NewReplacer("not defined: -", "not defined: --", "flag -", "flag --", "argument: -", "argument: --").Replace(err.Error())
		return &usageError{errors.New(msg)}
	case fs.NArg() > 0:
		return usageErrorf("unexpected argument %q", fs.Arg(0))
	}
	fs.Visit(func(f *flag.Flag) {
		if name, ok := strings.CutPrefix(f.Usage, aliasPrefix); ok {
			fmt.Fprintf(os.Stderr, "procq %s: --%s is deprecated and will be removed: use --%s\n", fs.Name(), f.Name, name)
		}
	})
	return nil
}

// required reports a missing required flag as a usage error.
func required(name, value string) error {
	if value == "" {
		return usageErrorf("--%s is required", name)
	}
	return nil
}

// printHelp writes the help of the command of fs: synopsis, summary and
// every flag with its default.
func printHelp(w io.Writer, fs *flag.FlagSet) {
	synopsis, summary := fs.Name(), ""
	if running.name == fs.Name() {
		synopsis, summary = running.usage, running.summary
	}
	fmt.Fprintf(w, "usage: procq %s\n", synopsis)
	if summary != "" {
		fmt.Fprintf(w, "\n%s.\n", strings.ToUpper(summary[:1])+summary[1:])
	}
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		if strings.HasPrefix(f.Usage, aliasPrefix) {
			return
		}
		if n == 0 {
			fmt.Fprintln(w, "\nflags:")
		}
		n++
		arg, text := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if arg != "" {
			line += " " + arg
		}
		fmt.Fprintf(w, "%s\n      %s", line, text)
		if !isZeroDefault(f) {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
	fmt.Fprintln(w, "\nA text file flag takes \"-\" for stdin or stdout. Flags take one or two dashes.")
}

// isZeroDefault reports whether f's default is its type's zero value,
// which the help does not print.
func isZeroDefault(f *flag.Flag) bool {
	switch f.DefValue {
	case "", "0", "false", "0s":
		return true
	}
	t := reflect.TypeOf(f.Value)
	if t.Kind() == reflect.Pointer {
		z := reflect.New(t.Elem()).Interface().(flag.Value)
		return f.DefValue == z.String()
	}
	return false
}

// runVersion prints the build's version, commit and Go version.
func runVersion(args []string) error {
	fs := newFlags("version")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	i := buildinfo.Get()
	fmt.Printf("procq %s\ncommit %s\n", i.Version, i.CommitLabel())
	if i.Time != "" {
		fmt.Printf("committed %s\n", i.Time)
	}
	fmt.Printf("go %s\n", i.GoVersion)
	return nil
}

// openIn opens the file a flag names for reading: stdin for "-". The
// name returned is the one to put in messages.
func openIn(path string) (io.ReadCloser, string, error) {
	if path == "-" {
		return io.NopCloser(os.Stdin), "stdin", nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, path, err
	}
	return f, path, nil
}

// isTerminal reports whether f is a character device, such as a terminal.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Flags that several commands take, defined once so that each has one
// name, one default and one meaning everywhere.

// defaultProcesses is the size of a generated data set.
const defaultProcesses = 100000

// processesFlag is --processes: the size of the generated data set (gen,
// bench, serve --demo, and the data set loadtest's request mix targets).
func processesFlag(fs *flag.FlagSet) *int {
	return fs.Int("processes", defaultProcesses, "`N` processes in the generated data set")
}

// seedFlag is --seed: the seed of the generated data set.
func seedFlag(fs *flag.FlagSet) *int64 {
	return fs.Int64("seed", synth.DefaultSeed, "seed `S` of the generated data set")
}

// mixCountFlag is --mix-count: the number of requests of the generated
// request mix (gen --requests-out, loadtest).
func mixCountFlag(fs *flag.FlagSet) *int {
	return fs.Int("mix-count", 1000, "`N` requests in the generated request mix")
}

// dataDirFlag is --data-dir of the commands that change a data directory.
func dataDirFlag(fs *flag.FlagSet) *string {
	return fs.String("data-dir", "", "data directory `DIR`, made by procq init (required)")
}

// syncFlag is --sync: the journal sync policy.
func syncFlag(fs *flag.FlagSet) *string {
	return fs.String("sync", "always", "journal sync `POLICY` with a data directory: always, second or never")
}

// isSet reports whether the flag name was given on the command line.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// writeOut calls write with the file a flag names: stdout for "-",
// otherwise a temporary file beside path, synced and renamed over path
// only when write succeeds, so a failure leaves nothing half-written.
func writeOut(path string, write func(io.Writer) error) (err error) {
	if path == "-" {
		return write(os.Stdout)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := write(f); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.Rename(f.Name(), path)
}
