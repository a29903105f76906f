package workload

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// nopDoer answers every request at once with the same envelope.
type nopDoer struct{}

func (nopDoer) Do(context.Context, []byte) ([]byte, error) {
	return []byte(`{"result":true,"code":0,"message":"","data":{"count":0,"list":[]}}`), nil
}

// BenchmarkInProcess is the runner's own cost per request (vegeta's
// attack loop, the in-process round trip, the metrics), closed loop, on a
// Doer that does nothing.
func BenchmarkInProcess(b *testing.B) {
	for _, c := range []int{1, 8} {
		b.Run(map[int]string{1: "c1", 8: "c8"}[c], func(b *testing.B) {
			b.ReportAllocs()
			st, err := NewInProcess(nopDoer{}).Run(context.Background(), reqs("a", "b"), Plan{Concurrency: c, Count: b.N, KeepBodies: true}, func(*Sample) {})
			if err != nil || st.Sent != b.N {
				b.Fatal(st, err)
			}
		})
	}
}

// BenchmarkTransport is one request and its 100 KB answer (the size of
// the request mix's mean answer) over loopback, read to the end and
// discarded as a load test does, through net/http's Transport and through
// connTransport. The server runs in the same process, so ns/op is both
// sides; the difference between the two is the client's.
func BenchmarkTransport(b *testing.B) {
	answer := bytes.Repeat([]byte("x"), 100_000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
		w.Write(answer)
	}))
	defer srv.Close()
	var d net.Dialer
	for _, tc := range []struct {
		name string
		rt   http.RoundTripper
	}{
		{"net-http", &http.Transport{DisableCompression: true}},
		{"conn", &connTransport{dial: d.DialContext, timeout: time.Minute, maxIdle: 1}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			c := &http.Client{Transport: tc.rt}
			body := []byte(`{"bk_biz_id":2}`)
			for b.Loop() {
				resp, err := c.Post(srv.URL, "application/json", bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			c.CloseIdleConnections()
		})
	}
}
