package workload

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// connTransport is the load generator's http.RoundTripper: HTTP/1.1 over
// kept-alive connections, each request written and its answer read in
// the calling goroutine. net/http's Transport hands every request to two
// goroutines of its own (a reader and a writer per connection) and reads
// through a buffer of 4 KiB (its ReadBufferSize default); on a machine
// whose cores the server shares, those handoffs and syscalls are CPU
// taken from the server. Here a typical answer fits the read buffer
// (connBufSize), and nothing but the caller runs. BenchmarkTransport
// times both on a 100 KB answer:
// go test ./workload -run '^$' -bench Transport -benchtime 2000x
//
// The answer is parsed by http.ReadResponse (status line, headers, a
// body by Content-Length, chunked or up to the close); a connection goes
// back to the pool once its body is read to the end, and is closed when
// the body is closed before that or the server asked to close.
type connTransport struct {
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// timeout bounds one request, from writing it to the end of its body.
	timeout time.Duration
	mu      sync.Mutex
	idle    map[string][]*conn
	// maxIdle bounds the idle connections kept per host.
	maxIdle int
}

// connBufSize is a connection's read buffer: a typical answer of the
// request mix (about 100 KB) fits in it.
const connBufSize = 256 << 10

// conn is one kept-alive connection.
type conn struct {
	nc  net.Conn
	br  *bufio.Reader
	out []byte // the request being written, reused
	// reused says the connection answered before, so a failure to read
	// the first byte of an answer may be the server closing it while idle.
	reused bool
}

// RoundTrip sends req on an idle connection (or a new one) and reads the
// answer's status line and headers. A request on a reused connection
// that gets no answer at all is sent once more on a new connection, as
// net/http does: the server may have closed it while idle.
func (t *connTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := requestBody(req)
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		c, err := t.get(req.Context(), req.URL.Host)
		if err != nil {
			return nil, err
		}
		resp, err := t.exchange(c, req, body)
		if err == nil {
			return resp, nil
		}
		c.nc.Close()
		if !c.reused || attempt > 0 {
			return nil, err
		}
	}
}

// requestBody reads req's body whole, once: a request sent again sends
// the same bytes.
func requestBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	defer req.Body.Close()
	var b bytes.Buffer
	b.Grow(int(max(req.ContentLength, 0)))
	// A *bytes.Reader body (vegeta's) is one WriteTo into the grown buffer.
	if _, err := io.Copy(&b, req.Body); err != nil {
		return nil, fmt.Errorf("request body: %w", err)
	}
	return b.Bytes(), nil
}

// exchange writes req with body on c, in one write, and reads the
// answer's head.
func (t *connTransport) exchange(c *conn, req *http.Request, body []byte) (*http.Response, error) {
	if err := c.nc.SetDeadline(time.Now().Add(t.timeout)); err != nil {
		return nil, err
	}
	c.out = appendRequest(c.out[:0], req, body)
	if _, err := c.nc.Write(c.out); err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(c.br, req)
	if err != nil {
		return nil, err
	}
	c.reused = true
	host := req.URL.Host
	switch {
	case resp.Close:
		resp.Body = &connBody{rc: resp.Body, c: c, t: t, close: true}
	case resp.Body == http.NoBody:
		t.put(host, c)
	default:
		resp.Body = &connBody{rc: resp.Body, c: c, t: t, host: host}
	}
	return resp, nil
}

// appendRequest appends the HTTP/1.1 request line, req's headers, the
// Host and Content-Length headers and body to b.
func appendRequest(b []byte, req *http.Request, body []byte) []byte {
	b = append(b, req.Method...)
	b = append(b, ' ')
	b = append(b, req.URL.RequestURI()...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, req.URL.Host...)
	b = append(b, "\r\n"...)
	for k, vs := range req.Header {
		for _, v := range vs {
			b = append(b, k...)
			b = append(b, ": "...)
			b = append(b, v...)
			b = append(b, "\r\n"...)
		}
	}
	if body != nil || req.Method == http.MethodPost || req.Method == http.MethodPut {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(len(body)), 10)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	return append(b, body...)
}

// get returns an idle connection to host, or dials one.
func (t *connTransport) get(ctx context.Context, host string) (*conn, error) {
	t.mu.Lock()
	if cs := t.idle[host]; len(cs) > 0 {
		c := cs[len(cs)-1]
		t.idle[host] = cs[:len(cs)-1]
		t.mu.Unlock()
		return c, nil
	}
	t.mu.Unlock()
	nc, err := t.dial(ctx, "tcp", host)
	if err != nil {
		return nil, err
	}
	return &conn{nc: nc, br: bufio.NewReaderSize(nc, connBufSize)}, nil
}

// put keeps c for the next request to host, or closes it when enough
// are kept.
func (t *connTransport) put(host string, c *conn) {
	t.mu.Lock()
	if t.idle == nil {
		t.idle = map[string][]*conn{}
	}
	if len(t.idle[host]) < t.maxIdle {
		t.idle[host] = append(t.idle[host], c)
		c = nil
	}
	t.mu.Unlock()
	if c != nil {
		c.nc.Close()
	}
}

// CloseIdleConnections closes the idle connections.
func (t *connTransport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = nil
	t.mu.Unlock()
	for _, cs := range idle {
		for _, c := range cs {
			c.nc.Close()
		}
	}
}

// connBody is an answer's body: read to its end, it gives its connection
// back to the pool (or closes it when the server asked to).
type connBody struct {
	rc    io.ReadCloser
	c     *conn
	t     *connTransport
	host  string
	close bool
	done  bool
}

func (b *connBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.release(true)
	}
	return n, err
}

// Close closes the connection unless the body was read to its end.
func (b *connBody) Close() error {
	b.release(false)
	return nil
}

// release gives the connection back when the body is read whole and the
// server keeps it open, and closes it otherwise. Only the first call
// counts.
func (b *connBody) release(whole bool) {
	if b.done {
		return
	}
	b.done = true
	if whole && !b.close {
		b.t.put(b.host, b.c)
		return
	}
	b.c.nc.Close()
}
