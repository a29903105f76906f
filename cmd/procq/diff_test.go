package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/procq/procq/engine"
	"github.com/procq/procq/internal/synth"
	"github.com/procq/procq/record"
	"github.com/procq/procq/snapshot"
)

func writeRecords(t *testing.T, path string, recs []*record.Record) {
	t.Helper()
	w, err := snapshot.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}

// TestDiffListsExactlyTheChanges diffs A against A with known changes.
func TestDiffListsExactlyTheChanges(t *testing.T) {
	a, err := synth.Collect(synth.Options{Processes: 400, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	oldPath, newPath := filepath.Join(dir, "a.snap"), filepath.Join(dir, "b.snap")
	writeRecords(t, oldPath, a)

	want := map[int64]string{} // pid -> op and changed fields
	var b []*record.Record
	for i, r := range a {
		c := *r
		switch {
		case i%50 == 3:
			want[r.ProcessID] = "removed"
			continue
		case i%50 == 7:
			c.ProcessStatus = (c.ProcessStatus + 1) % 3
			want[r.ProcessID] = "changed process_status"
		case i%50 == 11:
			c.SetID, c.ModuleID, c.ProcessName = c.SetID+1000, c.ModuleID+1000, c.ProcessName+"-x"
			want[r.ProcessID] = "changed bk_set_id,bk_module_id,bk_process_name"
		}
		b = append(b, &c)
	}
	for k := range 3 {
		c := *a[k]
		c.ProcessID = 9_000_000_000 + int64(k)
		b = append(b, &c)
		want[c.ProcessID] = "added"
	}
	slices.Reverse(b) // order of the file does not matter
	writeRecords(t, newPath, b)

	// Version 1 files as written record by record; version 2 files as
	// an engine writes them (index images, old values looked up by id).
	v2Old, v2New := filepath.Join(dir, "a2.snap"), filepath.Join(dir, "b2.snap")
	for _, p := range [][2]string{{oldPath, v2Old}, {newPath, v2New}} {
		e, err := engine.Load(p[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := e.WriteSnapshot(context.Background(), p[1]); err != nil {
			t.Fatal(err)
		}
	}
	for _, paths := range [][2]string{{oldPath, newPath}, {v2Old, v2New}} {
		checkDiff(t, dir, paths[0], paths[1], want)
	}
}

// checkDiff runs procq diff on oldPath and newPath, whose changes are
// want (process id to op and changed fields, as TestDiffListsExactlyTheChanges
// makes them), and checks its output and exit codes.
func checkDiff(t *testing.T, dir, oldPath, newPath string, want map[int64]string) {
	t.Helper()
	r := procq(t, "", "diff", oldPath, newPath)
	if r.code != 1 {
		t.Fatalf("diff: exit %d, stderr %s", r.code, r.stderr)
	}
	got := map[int64]string{}
	var last int64
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var c struct {
			Op     string                        `json:"op"`
			PID    int64                         `json:"bk_process_id"`
			Fields map[string][2]json.RawMessage `json:"fields"`
		}
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if c.PID <= last {
			t.Errorf("not in bk_process_id order: %d after %d", c.PID, last)
		}
		last = c.PID
		desc := c.Op
		if c.Op == "changed" {
			var names []string
			for _, f := range []string{"bk_set_id", "bk_module_id", "bk_process_name", "process_status"} {
				if v, ok := c.Fields[f]; ok {
					names = append(names, f)
					if string(v[0]) == string(v[1]) {
						t.Errorf("%s: field %s unchanged", line, f)
					}
				}
			}
			if len(names) != len(c.Fields) {
				t.Errorf("%s: unexpected fields", line)
			}
			desc += " " + strings.Join(names, ",")
		}
		got[c.PID] = desc
	}
	if len(got) != len(want) {
		t.Errorf("%d changes listed, want %d", len(got), len(want))
	}
	for pid, w := range want {
		if got[pid] != w {
			t.Errorf("process %d: got %q, want %q", pid, got[pid], w)
		}
	}
	if !strings.Contains(r.stderr, "added 3, removed 8, changed 16; moved between sets 8, between modules 8") {
		t.Errorf("summary: %s", r.stderr)
	}

	for _, tc := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"diff", oldPath, oldPath}, 0, ""},
		{[]string{"diff", "--format", "summary", oldPath, newPath}, 1, "added 3, removed 8"},
		{[]string{"diff", oldPath, filepath.Join(dir, "missing.snap")}, 2, ""},
		{[]string{"diff", oldPath}, 2, ""},
	} {
		r := procq(t, "", tc.args...)
		if r.code != tc.code || !strings.Contains(r.stdout, tc.out) || (tc.out == "" && r.stdout != "") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", tc.args, r.code, r.stdout, r.stderr)
		}
	}
}

// TestAppendFieldsCoversTheRecord changes each field of a record in turn
// (and each field of its list items), by reflection, so a field added
// to record.Record that the digest leaves out fails here: the digest of
// every changed copy differs from the original's.
func TestAppendFieldsCoversTheRecord(t *testing.T) {
	recs, err := synth.Collect(synth.Options{Processes: 50, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	var base *record.Record
	for _, r := range recs {
		if len(r.ConfigTemplates) > 0 && len(r.ProcInstInfos) > 0 {
			base = r
		}
	}
	if base == nil {
		t.Fatal("no record with both lists")
	}
	want, _ := digestOf(base, nil)
	changed := 0
	mutate := func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Int64:
			v.SetInt(v.Int() + 1)
		case reflect.Bool:
			v.SetBool(!v.Bool())
		case reflect.String:
			v.SetString(v.String() + "x")
		}
	}
	check := func(name string, c *record.Record) {
		if got, _ := digestOf(c, nil); got == want {
			t.Errorf("changing %s leaves the digest", name)
		}
		changed++
	}
	fresh := func() *record.Record {
		c := *base
		c.ConfigTemplates = slices.Clone(base.ConfigTemplates)
		c.ProcInstInfos = slices.Clone(base.ProcInstInfos)
		return &c
	}
	rt := reflect.TypeFor[record.Record]()
	for i := range rt.NumField() {
		if rt.Field(i).Type.Kind() != reflect.Slice {
			c := fresh()
			mutate(reflect.ValueOf(c).Elem().Field(i))
			check(rt.Field(i).Name, c)
			continue
		}
		item := rt.Field(i).Type.Elem()
		for j := range item.NumField() {
			c := fresh()
			mutate(reflect.ValueOf(c).Elem().Field(i).Index(0).Field(j))
			check(rt.Field(i).Name+"."+item.Field(j).Name, c)
		}
		c := fresh()
		f := reflect.ValueOf(c).Elem().Field(i)
		f.Set(f.Slice(0, f.Len()-1))
		check(rt.Field(i).Name+" (one item fewer)", c)
	}
	if changed < rt.NumField() {
		t.Errorf("only %d changes checked", changed)
	}
}
