package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestMain lets the tests run the real command: when PROCQ_TEST_MAIN is
// set, the test binary is procq.
func TestMain(m *testing.M) {
	if os.Getenv("PROCQ_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type runResult struct {
	stdout, stderr string
	code           int
}

func procq(t *testing.T, stdin string, args ...string) runResult {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "PROCQ_TEST_MAIN=1")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return runResult{out.String(), errb.String(), code}
}

// TestImportExportRoundTrip imports the fixture and exports it again: the
// lines come back byte for byte, ordered by bk_process_id.
func TestImportExportRoundTrip(t *testing.T) {
	dir := t.TempDir()
	snap := filepath.Join(dir, "fixture.snap")
	if r := procq(t, "", "import", "--in", "../../testdata/records.jsonl", "--out", snap); r.code != 0 {
		t.Fatalf("import: %+v", r)
	}
	r := procq(t, "", "export", "--snapshot", snap)
	if r.code != 0 {
		t.Fatalf("export: %+v", r)
	}
	in, err := os.ReadFile("../../testdata/records.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	type line struct {
		pid  int64
		text string
	}
	var want []line
	sc := bufio.NewScanner(bytes.NewReader(in))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v struct {
			PID int64 `json:"bk_process_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		want = append(want, line{v.PID, sc.Text()})
	}
	slices.SortFunc(want, func(a, b line) int { return int(a.pid - b.pid) })
	got := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(got) != len(want) {
		t.Fatalf("exported %d lines, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i].text {
			t.Fatalf("line %d:\n got %s\nwant %s", i+1, got[i], want[i].text)
		}
	}
}

func TestQuery(t *testing.T) {
	dir := t.TempDir()
	snap := filepath.Join(dir, "demo.snap")
	if r := procq(t, "", "gen", "--out", snap, "--processes", "3000", "--seed", "5"); r.code != 0 {
		t.Fatalf("gen: %+v", r)
	}
	ok := `{"bk_biz_id":2,"scope":{"bk_set_env":"0"},"page":1,"pagesize":2,"fields":["bk_process_id"]}`
	bad := `{"bk_biz_id":2,"page":1,"pagesize":2}`
	reqFile := filepath.Join(dir, "req.json")
	if err := os.WriteFile(reqFile, []byte(ok), 0o644); err != nil {
		t.Fatal(err)
	}
	batch := filepath.Join(dir, "reqs.jsonl")
	if err := os.WriteFile(batch, []byte(ok+"\n"+bad+"\n\nnot json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		stdin    string
		args     []string
		code     int
		envelope []bool // result of each printed line
	}{
		{"file", "", []string{"--request", reqFile}, 0, []bool{true}},
		{"stdin", ok, nil, 0, []bool{true}},
		{"invalid request", bad, nil, 1, []bool{false}},
		// One envelope per input line, the blank one included; exit 1
		// as some answers are errors.
		{"batch", "", []string{"--requests", batch}, 1, []bool{true, false, false, false}},
		{"batch all good", ok + "\n" + ok, []string{"--requests", "-"}, 0, []bool{true, true}},
		{"batch blank last line", ok + "\n\n", []string{"--requests", "-"}, 1, []bool{true, false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := procq(t, tc.stdin, append([]string{"query", "--snapshot", snap}, tc.args...)...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d: %+v", r.code, tc.code, r)
			}
			lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
			if len(lines) != len(tc.envelope) {
				t.Fatalf("%d lines, want %d: %q", len(lines), len(tc.envelope), r.stdout)
			}
			for i, l := range lines {
				var env struct {
					Result bool `json:"result"`
					Data   *struct {
						Count int `json:"count"`
					} `json:"data"`
				}
				if err := json.Unmarshal([]byte(l), &env); err != nil {
					t.Fatalf("line %d: %v: %s", i, err, l)
				}
				if env.Result != tc.envelope[i] || (env.Result && env.Data.Count == 0) {
					t.Fatalf("line %d: %s", i, l)
				}
			}
		})
	}
}

// TestBadInput checks that every kind of bad input ends with one line on
// stderr naming the problem and a non-zero exit.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.snap")
	if r := procq(t, "", "import", "--in", "../../testdata/records.jsonl", "--out", good); r.code != 0 {
		t.Fatalf("import: %+v", r)
	}
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	truncated := write("truncated.snap", data[:len(data)/2])
	flipped := slices.Clone(data)
	flipped[len(flipped)-100] ^= 0x40
	corrupt := write("corrupt.snap", flipped)
	versioned := slices.Clone(data)
	binary.LittleEndian.PutUint32(versioned[8:], 99)
	wrongVersion := write("version.snap", versioned)
	lines, err := os.ReadFile("../../testdata/records.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	first := bytes.SplitN(lines, []byte("\n"), 2)[0]
	badJSON := write("bad.jsonl", append(append(slices.Clone(first), '\n'), "{\"bk_process_id\": 7,\n"...))
	dup := write("dup.jsonl", bytes.Join([][]byte{first, first}, []byte("\n")))
	out := filepath.Join(dir, "out.snap")

	tests := []struct {
		name string
		args []string
		want string // in the error line
	}{
		{"missing snapshot", []string{"query", "--snapshot", filepath.Join(dir, "nope.snap")}, "nope.snap"},
		{"truncated snapshot", []string{"export", "--snapshot", truncated}, "truncated.snap"},
		{"corrupt byte", []string{"query", "--snapshot", corrupt}, "corrupt.snap"},
		{"wrong version", []string{"export", "--snapshot", wrongVersion}, "version"},
		{"bad json line", []string{"import", "--in", badJSON, "--out", out}, "bad.jsonl:2"},
		{"duplicate id", []string{"import", "--in", dup, "--out", out}, "dup.jsonl:2"},
		{"missing input", []string{"import", "--in", filepath.Join(dir, "none.jsonl"), "--out", out}, "none.jsonl"},
		{"unknown flag", []string{"query", "--snapshott", good}, "snapshott"},
		{"unknown command", []string{"frobnicate"}, "frobnicate"},
		{"missing flag", []string{"gen"}, "--out"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := procq(t, "{}", tc.args...)
			if r.code == 0 {
				t.Fatalf("exit 0: %+v", r)
			}
			msg := strings.TrimSuffix(r.stderr, "\n")
			if strings.Contains(msg, "\n") || !strings.Contains(msg, tc.want) {
				t.Fatalf("stderr %q should be one line naming %q", r.stderr, tc.want)
			}
			if strings.Contains(msg, "goroutine") {
				t.Fatalf("panic: %s", msg)
			}
		})
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed import left %s behind (err %v)", out, err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, "*.tmp*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

// TestUsageListsEveryCommand checks that the command table drives the
// usage text: every command once, with its summary and usage line.
func TestUsageListsEveryCommand(t *testing.T) {
	var b bytes.Buffer
	usage(&b)
	seen := map[string]bool{}
	for _, c := range commands {
		if seen[c.name] || c.run == nil || c.summary == "" || !strings.HasPrefix(c.usage, c.name) {
			t.Errorf("command %q: duplicate, or no run func, summary or usage", c.name)
		}
		seen[c.name] = true
		if strings.Count(b.String(), "\n  "+c.name+" ") != 1 || strings.Count(b.String(), "procq "+c.usage+"\n") != 1 {
			t.Errorf("usage does not list %s once:\n%s", c.name, b.String())
		}
		if got, ok := lookup(c.name); !ok || got.name != c.name {
			t.Errorf("lookup(%s) = %v, %v", c.name, got.name, ok)
		}
	}
	if _, ok := lookup("frobnicate"); ok {
		t.Error("lookup found an unknown command")
	}
	if r := procq(t, "", "help"); r.code != 0 || r.stderr != "" || !regexp.MustCompile(`\n  replay +replay a request log`).MatchString(r.stdout) {
		t.Errorf("procq help: %+v", r)
	}
	if r := procq(t, ""); r.code != 2 || !strings.Contains(r.stderr, "usage: procq COMMAND") {
		t.Errorf("procq with no command: %+v", r)
	}
}
