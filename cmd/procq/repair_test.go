package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRepair damages a data directory's journal: the commands that open
// it refuse, repair salvages it and says what it dropped, and they then
// work.
func TestRepair(t *testing.T) {
	tmp := t.TempDir()
	snap := filepath.Join(tmp, "a.snap")
	data := filepath.Join(tmp, "data")
	if r := procq(t, "", "gen", "--out", snap, "--processes", "50"); r.code != 0 {
		t.Fatalf("gen: %+v", r)
	}
	if r := procq(t, "", "init", "--data-dir", data, "--snapshot", snap); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	changes := filepath.Join(tmp, "changes.jsonl")
	if err := os.WriteFile(changes, []byte(`{"op":"upsert","record":{"bk_process_id":424242,"bk_biz_id":2,"bk_set_env":"3"}}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := procq(t, "", "apply", "--data-dir", data, "--in", changes); r.code != 0 {
		t.Fatalf("apply: %+v", r)
	}
	var out strings.Builder
	if err := repair([]string{"--data-dir", data}, &out); err != nil || !strings.Contains(out.String(), "nothing changed") {
		t.Fatalf("repair of a sound journal: %v; %s", err, out.String())
	}
	journal := filepath.Join(data, "journal.db")
	b, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-10] ^= 1
	if err := os.WriteFile(journal, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := procq(t, "", "checkpoint", "--data-dir", data); r.code != 1 || !strings.Contains(r.stderr, "offset") {
		t.Fatalf("checkpoint of a damaged journal: %+v", r)
	}
	out.Reset()
	if err := repair([]string{"--data-dir", data}, &out); err != nil || !strings.Contains(out.String(), "dropped") ||
		!strings.Contains(out.String(), "batch 1") {
		t.Fatalf("repair: %v; %s", err, out.String())
	}
	if r := procq(t, "", "checkpoint", "--data-dir", data); r.code != 0 {
		t.Fatalf("checkpoint after repair: %+v", r)
	}
	if err := runRepair(nil); err == nil {
		t.Fatal("repair without --data-dir succeeded")
	}
}
