package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/procq/procq/gsekit"
	"github.com/procq/procq/server"
	"github.com/procq/procq/store"
)

var _ server.Replica = (*Replica)(nil)

// serveReplica runs a server over a data directory that follows the
// stream and returns its URL.
func serveReplica(t *testing.T, c *Conn, dir, name string) string {
	t.Helper()
	if _, err := c.Prepare(context.Background(), dir, nil); err != nil {
		t.Fatal(err)
	}
	s := server.New(server.Config{DataDir: dir, Store: store.Options{Sync: store.SyncNever},
		Replica: c.Replica(FollowOptions{Name: name}), MinSeqWait: 2 * time.Second}) // room for a loaded machine; only the too-far case waits it out
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() { done <- s.Run(ctx, ln, func(*server.LoadInfo) { close(ready) }) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatal(err)
	case <-time.After(waitBound):
		t.Fatal("server not ready")
	}
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + ln.Addr().String()
}

type answer struct {
	status int
	seq    string
	body   string
	env    struct {
		Result  bool            `json:"result"`
		Code    int             `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	}
}

func post(t *testing.T, url, body string, header ...string) answer {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, seq: resp.Header.Get(server.HeaderSeq), body: string(b)}
	_ = json.Unmarshal(b, &a.env)
	return a
}

// TestReadYourWrites: a write through one replica's admin endpoint is
// published; the other replica answers a request asking for its stream
// sequence with it applied, and one asking for more with a 503.
func TestReadYourWrites(t *testing.T) {
	ns, c, w := newFleet(t, 7)
	tmp := t.TempDir()
	writer := serveReplica(t, c, filepath.Join(tmp, "w"), "w")
	reader := serveReplica(t, c, filepath.Join(tmp, "r"), "r")
	rec := w.base[0]
	a := post(t, writer+"/admin/status", fmt.Sprintf(`{"updates":[{"bk_process_id":%d,"process_status":7,"is_auto":true}]}`, rec.ProcessID))
	var pub struct {
		StreamSeq uint64 `json:"stream_seq"`
		Messages  int    `json:"messages"`
	}
	if err := json.Unmarshal(a.env.Data, &pub); a.status != 200 || err != nil || pub.StreamSeq == 0 || pub.Messages != 1 {
		t.Fatalf("status through the writer: %d %s", a.status, a.body)
	}
	query := fmt.Sprintf(`{"bk_biz_id":%d,"scope":{"bk_process_ids":[%d]},"fields":["bk_process_id","process_status"],"page":1,"pagesize":10}`,
		rec.BizID, rec.ProcessID)
	min := strconv.FormatUint(pub.StreamSeq, 10)
	a = post(t, reader+gsekit.Path, query, server.HeaderMinSeq, min)
	if a.status != 200 || !strings.Contains(a.body, `"process_status":7`) {
		t.Fatalf("query with %s %s: %d %s", server.HeaderMinSeq, min, a.status, a.body)
	}
	if got, _ := strconv.ParseUint(a.seq, 10, 64); got < pub.StreamSeq {
		t.Fatalf("%s %q, want >= %d", server.HeaderSeq, a.seq, pub.StreamSeq)
	}
	tooFar := strconv.FormatUint(pub.StreamSeq+1000, 10)
	a = post(t, reader+gsekit.Path, query, server.HeaderMinSeq, tooFar)
	if a.status != 503 || !strings.Contains(a.env.Message, "replica behind") {
		t.Fatalf("query with %s %s: %d %s", server.HeaderMinSeq, tooFar, a.status, a.body)
	}
	if a = post(t, reader+gsekit.Path, query, server.HeaderMinSeq, "x"); a.status != 400 {
		t.Fatalf("query with %s x: %d %s", server.HeaderMinSeq, a.status, a.body)
	}
	checkHealth(t, reader, pub.StreamSeq)

	// With NATS gone, a write fails and says so; reads go on.
	ns.Shutdown()
	ns.WaitForShutdown()
	a = post(t, writer+"/admin/status", fmt.Sprintf(`{"updates":[{"bk_process_id":%d,"process_status":1,"is_auto":true}]}`, rec.ProcessID))
	if a.status != 503 || !strings.Contains(a.env.Message, "not published") {
		t.Fatalf("status with NATS down: %d %s", a.status, a.body)
	}
	if a = post(t, reader+gsekit.Path, query); a.status != 200 || !strings.Contains(a.body, `"process_status":7`) {
		t.Fatalf("query with NATS down: %d %s", a.status, a.body)
	}
}

// checkHealth checks that /healthz and /metrics report the replication.
func checkHealth(t *testing.T, url string, applied uint64) {
	t.Helper()
	resp, err := http.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Replication struct {
			Following  bool   `json:"following"`
			AppliedSeq uint64 `json:"applied_seq"`
		} `json:"replication"`
	}
	err = json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if err != nil || !h.Replication.Following || h.Replication.AppliedSeq < applied {
		t.Fatalf("healthz: %+v %v, want following at >= %d", h, err, applied)
	}
	resp, err = http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{"procq_replication_lag_messages ", "procq_replication_applied_total "} {
		if !strings.Contains(string(b), m) {
			t.Fatalf("metrics lack %s", m)
		}
	}
}
