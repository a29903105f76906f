package main

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchFlagErrors checks that bad bench flags fail before any work,
// with a message naming the flag.
func TestBenchFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--format", "xml"}, "--format must be markdown or json"},
		{[]string{"--processes", "-1"}, "--processes must be > 0"},
		{[]string{"--snapshot", "x.snap", "--processes", "5"}, "exclusive"},
		{[]string{"--engines", "scan,mysql"}, `unknown engine "mysql"`},
		{[]string{"--profile-query", "env_only"}, "needs --cpuprofile"},
		{[]string{"--profile-for", "0s"}, "--profile-for must be > 0"},
		{[]string{"--budget", "-1ms"}, "--budget must be >= 0"},
		{[]string{"--snapshot", filepath.Join(t.TempDir(), "missing.snap")}, "--snapshot:"},
		{[]string{"--nope"}, "flag provided but not defined"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		err := runBench(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("bench %v: got %v, want %q", tc.args, err, tc.want)
		}
	}
	if err := runBench([]string{"--help"}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("bench --help: %v", err)
	}
}

// TestBenchCommand runs a tiny benchmark through the binary and reads its
// JSON report.
func TestBenchCommand(t *testing.T) {
	prof := filepath.Join(t.TempDir(), "cpu.prof")
	plot := filepath.Join(t.TempDir(), "chart.svg")
	r := procq(t, "", "bench", "--quick", "--processes", "800", "--engines", "scan", "--format", "json", "--plot", plot,
		"--budget", "1ms", "--cpuprofile", prof, "--profile-query", "expr_slice", "--profile-for", "50ms")
	if r.code != 0 {
		t.Fatalf("bench: %+v", r)
	}
	var rep struct {
		Records  int      `json:"records"`
		Engines  []string `json:"engines"`
		Profiled string   `json:"profiled"`
		Queries  []struct {
			Name string `json:"name"`
		} `json:"queries"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, r.stdout)
	}
	if rep.Records != 800 || strings.Join(rep.Engines, ",") != "procq,scan" || len(rep.Queries) < 20 || rep.Profiled != "expr_slice" {
		t.Errorf("report: %+v", rep)
	}
	if st, err := os.Stat(prof); err != nil || st.Size() == 0 {
		t.Errorf("cpu profile: %v", err)
	}
	if svg, err := os.ReadFile(plot); err != nil || !strings.HasPrefix(string(svg), "<svg") || strings.Count(string(svg), "<circle") != 2+2*len(rep.Queries) {
		t.Errorf("--plot: %v, %d circles", err, strings.Count(string(svg), "<circle"))
	}
	if strings.Contains(r.stderr, "\r") {
		t.Errorf("progress bar drawn on a non-terminal: %q", r.stderr)
	}
}
