package workload

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingDial dials as net.Dialer does and counts the connections.
func countingDial(n *atomic.Int64) func(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		n.Add(1)
		return d.DialContext(ctx, network, addr)
	}
}

// TestConnTransport sends requests one after the other through
// connTransport to a server answering each body framing net/http knows
// (Content-Length, chunked, none with 304, up to the close): every answer
// reads back whole, and the connection is reused unless the server
// closed it.
func TestConnTransport(t *testing.T) {
	big := strings.Repeat("0123456789", 50_000) // over the read buffer
	for _, tc := range []struct {
		name string
		h    http.HandlerFunc
		// want is the body every answer has; dials the connections
		// 5 requests take.
		want   string
		status int
		dials  int64
	}{
		{"content-length", func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
			w.Write(append(b, '!'))
		}, "hello!", 200, 1},
		{"large", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(big)))
			io.WriteString(w, big)
		}, big, 200, 1},
		{"chunked", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "ab")
			w.(http.Flusher).Flush()
			io.WriteString(w, "cd")
		}, "abcd", 200, 1},
		{"not-modified", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNotModified)
		}, "", 304, 1},
		{"close", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Connection", "close")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, "bye")
		}, "bye", 400, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Content-Type") != "application/json" || r.ContentLength != 5 || r.URL.RequestURI() != "/p?x=1" {
					t.Errorf("request %s %s %v length %d", r.Method, r.URL.RequestURI(), r.Header, r.ContentLength)
				}
				seen.Add(1)
				tc.h(w, r)
			}))
			defer srv.Close()
			var dials atomic.Int64
			tr := &connTransport{dial: countingDial(&dials), timeout: time.Minute, maxIdle: 2}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr}
			for i := range 5 {
				req, _ := http.NewRequest(http.MethodPost, srv.URL+"/p?x=1", bytes.NewReader([]byte("hello")))
				req.Header.Set("Content-Type", "application/json")
				resp, err := c.Do(req)
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || string(b) != tc.want || resp.StatusCode != tc.status {
					t.Fatalf("request %d: status %d, %d bytes, %v", i, resp.StatusCode, len(b), err)
				}
			}
			if seen.Load() != 5 || dials.Load() != tc.dials {
				t.Errorf("%d requests seen over %d connections, want 5 over %d", seen.Load(), dials.Load(), tc.dials)
			}
		})
	}
}

// posts sends n requests to url through a connTransport keeping one idle
// connection, reads at most read bytes of each answer (all with -1),
// closes it, and returns what was read of each and the connections dialed.
func posts(t *testing.T, url string, n, read int) ([]string, int64) {
	t.Helper()
	var dials atomic.Int64
	tr := &connTransport{dial: countingDial(&dials), timeout: time.Minute, maxIdle: 1}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	var got []string
	for i := range n {
		resp, err := c.Post(url, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		var b []byte
		if read < 0 {
			b, err = io.ReadAll(resp.Body)
		} else {
			b = make([]byte, read)
			_, err = io.ReadFull(resp.Body, b)
		}
		resp.Body.Close()
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		got = append(got, string(b))
	}
	return got, dials.Load()
}

// TestConnTransportIdleClosed has the server close each connection once
// it has answered, without saying so: the next request, finding its
// kept connection closed, is sent again on a new one and answered.
func TestConnTransportIdleClosed(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateIdle {
			c.Close()
		}
	}
	srv.Start()
	defer srv.Close()
	got, dials := posts(t, srv.URL, 3, -1)
	if !slices.Equal(got, []string{"ok", "ok", "ok"}) || dials != 3 {
		t.Errorf("answers %q over %d connections; want 3 ok over 3, each closed after its answer", got, dials)
	}
}

// TestConnBodyClosedEarly closes a body before its end: the connection
// is not reused (its unread bytes would be taken for the next answer).
func TestConnBodyClosedEarly(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "0123456789")
	}))
	defer srv.Close()
	got, dials := posts(t, srv.URL, 2, 3)
	if !slices.Equal(got, []string{"012", "012"}) || dials != 2 {
		t.Errorf("answers %q over %d connections; want 012 twice over 2: a body closed early must not be reused", got, dials)
	}
}
