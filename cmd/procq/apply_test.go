package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDataDirCommands drives init, apply and checkpoint, and reads the
// result back through the snapshot the checkpoint writes.
func TestDataDirCommands(t *testing.T) {
	tmp := t.TempDir()
	snap := filepath.Join(tmp, "a.snap")
	data := filepath.Join(tmp, "data")
	if r := procq(t, "", "gen", "--out", snap, "--processes", "200"); r.code != 0 {
		t.Fatalf("gen: %+v", r)
	}
	first := strings.SplitN(procq(t, "", "export", "--snapshot", snap).stdout, "\n", 2)[0]
	var rec struct {
		PID int64 `json:"bk_process_id"`
	}
	if err := json.Unmarshal([]byte(first), &rec); err != nil {
		t.Fatal(err)
	}
	if r := procq(t, "", "init", "--data-dir", data, "--snapshot", snap); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	if r := procq(t, "", "init", "--data-dir", data); r.code != 1 || !strings.Contains(r.stderr, "not empty") {
		t.Fatalf("second init: %+v", r)
	}

	changes := filepath.Join(tmp, "changes.jsonl")
	write := func(s string) {
		if err := os.WriteFile(changes, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"op":"upsert","record":{"bk_process_id":424242,"bk_biz_id":2,"bk_set_name":"新","bk_set_env":"3"}}
{"op":"status","updates":[{"bk_process_id":424242,"process_status":1,"is_auto":true}]}
{"op":"delete","bk_process_id":` + jsonInt(rec.PID) + `}
{"op":"delete","bk_process_ids":[31337]}
`)
	r := procq(t, "", "apply", "--data-dir", data, "--in", changes)
	if r.code != 0 || !strings.Contains(r.stderr, "as batch 1: 2 processes changed, 200 records now") ||
		!strings.Contains(r.stderr, "named no process and were skipped: 31337") {
		t.Fatalf("apply: %+v", r)
	}

	// A bad line: one line naming file and line, exit 1, nothing applied.
	write(`{"op":"delete","bk_process_id":424242}
{"op":"status","updates":[{"bk_process_id":424242,"process_status":1}]}
`)
	r = procq(t, "", "apply", "--data-dir", data, "--in", changes)
	if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "procq apply: "+changes+":2: ") ||
		!strings.Contains(r.stderr, "is_auto is missing") {
		t.Fatalf("bad line: %+v", r)
	}
	for _, args := range [][]string{
		{"apply", "--data-dir", data},
		{"apply", "--in", changes},
		{"apply", "--data-dir", data, "--in", changes, "--sync", "sometimes"},
		{"apply", "--data-dir", filepath.Join(tmp, "nope"), "--in", changes},
		{"apply", "--data-dir", tmp, "--in", "-"},
		{"checkpoint", "--data-dir", tmp},
	} {
		if r := procq(t, `{"op":"delete","bk_process_id":1}`, args...); r.code == 0 || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%v: %+v", args, r)
		}
	}

	r = procq(t, "", "checkpoint", "--data-dir", data)
	if r.code != 0 || !strings.Contains(r.stderr, "200 records up to batch 1") {
		t.Fatalf("checkpoint: %+v", r)
	}
	if r := procq(t, "", "checkpoint", "--data-dir", data); r.code != 0 || !strings.Contains(r.stderr, "nothing changed") {
		t.Fatalf("second checkpoint: %+v", r)
	}
	out := procq(t, "", "export", "--snapshot", filepath.Join(data, "snap-00000000000000000001.procq"))
	if out.code != 0 {
		t.Fatalf("export: %+v", out)
	}
	if strings.Contains(out.stdout, `"bk_process_id":`+jsonInt(rec.PID)+`,`) {
		t.Error("the deleted process is still there")
	}
	var added string
	for _, line := range strings.Split(out.stdout, "\n") {
		if strings.Contains(line, `"bk_process_id":424242,`) {
			added = line
		}
	}
	if !strings.Contains(added, `"bk_set_name":"新"`) || !strings.Contains(added, `"process_status":1,"is_auto":true`) {
		t.Errorf("the upserted process: %q", added)
	}
}

func jsonInt(v int64) string {
	b, _ := json.Marshal(v)
	return string(b)
}
