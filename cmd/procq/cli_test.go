package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// helpOf runs c with -h in process and returns what it printed on
// stdout and the flags its flag set defines (aliases left out).
func helpOf(t *testing.T, c command) (string, []string) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "help")
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout, running, lastFlags = f, c, nil
	err = c.run([]string{"-h"})
	os.Stdout = stdout
	if err != flag.ErrHelp {
		t.Fatalf("%s -h: %v, want flag.ErrHelp", c.name, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if lastFlags == nil {
		t.Fatalf("%s made no flag set", c.name)
	}
	var names []string
	lastFlags.VisitAll(func(fl *flag.Flag) {
		if !strings.HasPrefix(fl.Usage, aliasPrefix) {
			names = append(names, fl.Name)
		}
	})
	return string(out), names
}

// TestHelpListsEveryFlag: every command's help names the command, its
// summary and every flag, with the default of each flag that has one,
// and no hidden alias.
func TestHelpListsEveryFlag(t *testing.T) {
	for _, c := range commands {
		out, names := helpOf(t, c)
		if !strings.HasPrefix(out, "usage: procq "+c.usage+"\n") || !strings.Contains(out, c.summary[1:]) {
			t.Errorf("%s help has no synopsis or summary:\n%s", c.name, out)
		}
		for _, n := range names {
			if !strings.Contains(out, "\n  --"+n+" ") && !strings.Contains(out, "\n  --"+n+"\n") {
				t.Errorf("%s help does not list --%s:\n%s", c.name, n, out)
			}
			if fl := lastFlags.Lookup(n); !isZeroDefault(fl) && !strings.Contains(out, "(default "+fl.DefValue+")") {
				t.Errorf("%s help does not give the default of --%s", c.name, n)
			}
		}
		for _, old := range []string{"demo-processes", "mix-processes", "max-requests", "requests-count"} {
			if strings.Contains(out, "--"+old) {
				t.Errorf("%s help lists the alias --%s", c.name, old)
			}
		}
	}
}

// TestHelpExitsZero: the three ways of asking for help print the same
// text on stdout and exit 0.
func TestHelpExitsZero(t *testing.T) {
	for _, c := range commands {
		want := procq(t, "", "help", c.name)
		if want.code != 0 || want.stderr != "" || !strings.HasPrefix(want.stdout, "usage: procq "+c.name) {
			t.Errorf("help %s: %+v", c.name, want)
		}
		for _, h := range []string{"-h", "--help", "-help"} {
			if r := procq(t, "", c.name, h); r != want {
				t.Errorf("%s %s differs from help %s: %+v", c.name, h, c.name, r)
			}
		}
	}
}

func TestVersion(t *testing.T) {
	r := procq(t, "", "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "procq ") || !strings.Contains(r.stdout, "\ncommit ") ||
		!strings.Contains(r.stdout, "\ngo go1.") {
		t.Errorf("version: %+v", r)
	}
}

// TestUsageErrors: a command line that cannot run exits 2 with one line
// on stderr naming the flag (or the command).
func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"gen"}, "--out is required"},
		{[]string{"gen", "--out"}, "--out"},
		{[]string{"gen", "--out", "x", "--processes", "many"}, "--processes"},
		{[]string{"query", "--snapshott", "x"}, "--snapshott"},
		{[]string{"export", "--snapshot", "x", "extra"}, `"extra"`},
		{[]string{"serve", "--processes", "-1", "--demo"}, "--processes"},
		{[]string{"serve"}, "--snapshot FILE, --data-dir DIR or --demo"},
		{[]string{"loadtest", "--requests", "r.jsonl", "--processes", "10"}, "exclusive"},
		{[]string{"apply", "--in", "-"}, "--data-dir is required"},
		{[]string{"version", "--short"}, "--short"},
		{[]string{"frobnicate"}, `"frobnicate"`},
		{[]string{"help", "frobnicate"}, `"frobnicate"`},
	} {
		r := procq(t, "", tc.args...)
		if r.code != 2 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
			t.Errorf("%v: want exit 2 and one line naming %s: %+v", tc.args, tc.want, r)
		}
	}
}

// TestDeprecatedAliases: the former spellings still work, with a warning.
func TestDeprecatedAliases(t *testing.T) {
	dir := t.TempDir()
	r := procq(t, "", "gen", "--out", filepath.Join(dir, "a.snap"), "--processes", "50",
		"--requests-out", "-", "--requests-count", "7")
	if r.code != 0 || strings.Count(r.stdout, "\n") != 7 ||
		!strings.Contains(r.stderr, "--requests-count is deprecated and will be removed: use --mix-count") {
		t.Errorf("gen --requests-count: %+v", r)
	}
	f, err := parseLoadFlags([]string{"--mix-processes", "30", "--max-requests", "9"})
	if err != nil || f.mixN != 30 || f.maxRequests != 9 {
		t.Errorf("loadtest aliases: %+v, %v", f, err)
	}
}

// TestStdinStdout: "-" reads stdin and writes stdout.
func TestStdinStdout(t *testing.T) {
	dir := t.TempDir()
	records, err := os.ReadFile("../../testdata/records.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	snap := filepath.Join(dir, "s.snap")
	if r := procq(t, string(records), "import", "--in", "-", "--out", snap); r.code != 0 {
		t.Fatalf("import --in -: %+v", r)
	}
	a := procq(t, "", "export", "--snapshot", snap)
	b := procq(t, "", "export", "--snapshot", snap, "--out", "-")
	out := filepath.Join(dir, "out.jsonl")
	c := procq(t, "", "export", "--snapshot", snap, "--out", out)
	written, err := os.ReadFile(out)
	if a.code != 0 || a.stdout != b.stdout || b.code != 0 || c.code != 0 || c.stdout != "" || err != nil || string(written) != a.stdout {
		t.Errorf("export --out: %+v %+v %+v %v", a, b, c, err)
	}
	if strings.Count(a.stdout, "\n") != strings.Count(strings.TrimSpace(string(records)), "\n")+1 {
		t.Errorf("export wrote %d lines", strings.Count(a.stdout, "\n"))
	}
}
