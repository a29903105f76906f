package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// TestPublishCommands: procq publish prints the stream sequence of its
// batch; publish-snapshot uploads; both fail with one line and exit 1
// when NATS is not there, and serve --nats wants --data-dir.
func TestPublishCommands(t *testing.T) {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true,
		StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS server not ready")
	}
	defer ns.Shutdown()
	dir := t.TempDir()
	changes := filepath.Join(dir, "changes.jsonl")
	body := `{"op":"status","updates":[{"bk_process_id":1,"process_status":1,"is_auto":true}]}
{"op":"upsert","record":{"bk_process_id":900001,"bk_biz_id":2,"bk_set_env":"3","bk_set_name":"s","bk_module_name":"m","bk_process_name":"p"}}
{"op":"upsert","record":{"bk_process_id":900002,"bk_biz_id":3,"bk_set_env":"3","bk_set_name":"s","bk_module_name":"m","bk_process_name":"p"}}
`
	if err := os.WriteFile(changes, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	url := ns.ClientURL()
	// One message for procq.changes.any, then businesses 2 and 3.
	if r := procq(t, "", "publish", "--nats", url, "--in", changes); r.code != 0 || r.stdout != "3\n" {
		t.Fatalf("publish: %+v", r)
	}
	snap := filepath.Join(dir, "fixture.snap")
	if r := procq(t, "", "import", "--in", "../../testdata/records.jsonl", "--out", snap); r.code != 0 {
		t.Fatalf("import: %+v", r)
	}
	if r := procq(t, "", "publish-snapshot", "--nats", url, "--snapshot", snap, "--stream-seq", "3"); r.code != 0 {
		t.Fatalf("publish-snapshot: %+v", r)
	}
	if r := procq(t, "", "publish-snapshot", "--nats", url, "--snapshot", snap, "--stream-seq", "2"); r.code != 1 || !strings.Contains(r.stderr, "covers more") {
		t.Fatalf("publish-snapshot of an older one: %+v", r)
	}
	if r := procq(t, "", "serve", "--demo", "--nats", url); r.code != 2 || !strings.Contains(r.stderr, "--data-dir") {
		t.Fatalf("serve --nats without --data-dir: %+v", r)
	}
	ns.Shutdown()
	ns.WaitForShutdown()
	if r := procq(t, "", "publish", "--nats", url, "--in", changes); r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "nats") {
		t.Fatalf("publish with NATS down: %+v", r)
	}
}
