package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/procq/procq/store"
)

// adminEndpoint is one /admin/ endpoint with a request it accepts.
type adminEndpoint struct {
	method, path, body string
	dataDir            bool // served with a data directory, not a snapshot
}

var adminEndpoints = []adminEndpoint{
	{"POST", "/admin/reload", "", false},
	{"POST", "/admin/reload", "", true},
	{"POST", "/admin/upsert", `{"record":{"bk_process_id":99999999,"bk_biz_id":2}}`, true},
	{"POST", "/admin/delete", `{"bk_process_ids":[1]}`, true},
	{"POST", "/admin/status", `{"updates":[{"bk_process_id":2,"process_status":1,"is_auto":true}]}`, true},
	{"POST", "/admin/apply", `{"op":"delete","bk_process_id":3}` + "\n", true},
	{"POST", "/admin/checkpoint", "", true},
	{"GET", "/admin/store", "", true},
}

// TestAdminAccessPolicy is the access-policy table: every admin endpoint
// × {no token configured, token configured and no header, wrong token,
// right token} × {loopback, non-loopback listener}. Without a token a
// non-loopback listener is refused at start (checkListener, what Run
// calls first) and no request is sent; otherwise the requests go to the
// server's handler in process, never over a network.
func TestAdminAccessPolicy(t *testing.T) {
	const token = "r1ght-t0ken"
	listeners := []struct {
		name string
		addr net.Addr
	}{
		{"loopback", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}},
		{"non-loopback", &net.TCPAddr{IP: net.IPv4(192, 0, 2, 10), Port: 8080}}, // TEST-NET-1: never listened on
	}
	cases := []struct {
		name, token, header string
		status              int // 0: refused at start
		nonLoopbackStatus   int
	}{
		{"no token configured", "", "", 200, 0},
		{"token, no header", token, "", 401, 401},
		{"wrong token", token, "Bearer wr0ng", 401, 401},
		{"right token", token, "Bearer " + token, 200, 200},
	}
	snap := filepath.Join(t.TempDir(), "a.snap")
	writeSnapshot(t, snap, 50, 1)
	for _, ep := range adminEndpoints {
		for _, c := range cases {
			for _, l := range listeners {
				kind := map[bool]string{false: "snapshot", true: "data-dir"}[ep.dataDir]
				t.Run(fmt.Sprintf("%s %s %s/%s/%s", ep.method, ep.path, kind, c.name, l.name), func(t *testing.T) {
					cfg := Config{Source: fileSource(snap), AdminToken: c.token}
					if ep.dataDir {
						cfg = Config{DataDir: initDataDir(t, snap), AdminToken: c.token}
					}
					s, _ := newTestServer(cfg)
					defer s.closeDataDir() //nolint:errcheck // a test's temporary directory
					want := c.status
					if l.name == "non-loopback" {
						want = c.nonLoopbackStatus
					}
					err := s.access.checkListener(l.addr, s.adminServed())
					if want == 0 {
						if !errors.Is(err, ErrAdminUnprotected) {
							t.Fatalf("start: err %v, want ErrAdminUnprotected", err)
						}
						return
					}
					if err != nil {
						t.Fatalf("start: %v", err)
					}
					if _, err := s.Load(); err != nil {
						t.Fatal(err)
					}
					req := httptest.NewRequest(ep.method, ep.path, strings.NewReader(ep.body))
					if c.header != "" {
						req.Header.Set("Authorization", c.header)
					}
					rec := httptest.NewRecorder()
					s.Handler().ServeHTTP(rec, req)
					if rec.Code != want {
						t.Fatalf("status %d, want %d: %s", rec.Code, want, rec.Body)
					}
					if want == 401 && rec.Header().Get("WWW-Authenticate") == "" {
						t.Error("401 without WWW-Authenticate")
					}
				})
			}
		}
	}
}

// initDataDir makes a data directory from the snapshot snap.
func initDataDir(t *testing.T, snap string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	if err := store.Init(dir, snap); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestAccessPolicyAllow(t *testing.T) {
	p := newAccessPolicy("t0k")
	for _, c := range []struct {
		header string
		ok     bool
	}{
		{"Bearer t0k", true},
		{"bearer t0k", true},
		{"BEARER t0k", true},
		{"Bearer   t0k", true},
		{"", false},
		{"Bearer", false},
		{"Bearer ", false},
		{"Bearert0k", false},
		{"Basic t0k", false},
		{"Bearer t0k ", false},
		{"Bearer t0", false},
		{"Bearer t0kk", false},
	} {
		r := httptest.NewRequest("POST", "/admin/reload", nil)
		if c.header != "" {
			r.Header.Set("Authorization", c.header)
		}
		if got := p.allow(r); got != c.ok {
			t.Errorf("Authorization %q: allowed %v, want %v", c.header, got, c.ok)
		}
	}
	if !newAccessPolicy("").allow(httptest.NewRequest("POST", "/admin/reload", nil)) {
		t.Error("without a token the policy refuses")
	}
}

func TestAccessPolicyCheckListener(t *testing.T) {
	loop, other := &net.TCPAddr{IP: net.IPv6loopback}, &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1)}
	for _, c := range []struct {
		token  string
		addr   net.Addr
		served bool
		want   error
	}{
		{"", loop, true, nil},
		{"", other, true, ErrAdminUnprotected},
		{"", other, false, nil},
		{"", &net.UnixAddr{Name: "/tmp/s", Net: "unix"}, true, ErrAdminUnprotected},
		{"t", other, true, nil},
		{" t", loop, true, ErrAdminTokenSpace},
		{"t\n", other, true, ErrAdminTokenSpace},
		{"t\t", other, false, ErrAdminTokenSpace},
	} {
		if err := newAccessPolicy(c.token).checkListener(c.addr, c.served); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("token %q on %s (served %v): %v, want %v", c.token, c.addr, c.served, err, c.want)
		}
	}
}

// TestRunRefusesUnprotectedAdmin starts Run on a listener of this machine
// that is not loopback (0.0.0.0): without a token it refuses before
// serving, for a snapshot as for a data directory; a token with spaces is
// refused anywhere. No request is sent.
func TestRunRefusesUnprotectedAdmin(t *testing.T) {
	snap := filepath.Join(t.TempDir(), "a.snap")
	writeSnapshot(t, snap, 20, 1)
	for _, c := range []struct {
		name string
		cfg  Config
		addr string
		want error
	}{
		{"snapshot", Config{Source: fileSource(snap)}, "0.0.0.0:0", ErrAdminUnprotected},
		{"data dir", Config{DataDir: initDataDir(t, snap)}, "0.0.0.0:0", ErrAdminUnprotected},
		{"token with a space", Config{Source: fileSource(snap), AdminToken: "t "}, "127.0.0.1:0", ErrAdminTokenSpace},
	} {
		ln, err := net.Listen("tcp", c.addr)
		if err != nil {
			t.Skip("cannot listen:", err)
		}
		s, _ := newTestServer(c.cfg)
		err = s.Run(context.Background(), ln, func(*LoadInfo) { t.Errorf("%s: served", c.name) })
		ln.Close()
		if !errors.Is(err, c.want) {
			t.Errorf("%s: Run: %v, want %v", c.name, err, c.want)
		}
	}
}
