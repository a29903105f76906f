package workload

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"
)

// ErrNotLoopback is wrapped by LoopbackURL's error for a host that is
// not this machine.
var ErrNotLoopback = errors.New("load tests run against this machine only (a loopback address or localhost)")

// LoopbackURL checks that raw is an http URL of a loopback host — an
// IPv4 or IPv6 loopback address, or localhost — and gives it path when it
// has none.
func LoopbackURL(raw, path string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	if u.Scheme != "http" {
		return "", fmt.Errorf("%q: want an http:// URL", raw)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("%q: %w", raw, ErrNotLoopback)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = path
	}
	return u.String(), nil
}

// requestTimeout bounds one HTTP request.
const requestTimeout = time.Minute

// HTTP is a procq server on this machine, reached over HTTP.
type HTTP struct {
	url    string
	client *http.Client
}

// NewHTTP returns the server at rawURL, which must pass LoopbackURL (path
// is the endpoint path given to a URL with none). Its client goes through
// no proxy, dials localhost over IPv4 first, as `procq serve` listens on
// 127.0.0.1 by default, and keeps up to concurrency connections alive. It
// speaks HTTP/1.1 from the caller's goroutine (see connTransport), so that
// the load generator takes as little CPU as it can from a server on the
// same cores.
func NewHTTP(rawURL, path string, concurrency int) (*HTTP, error) {
	u, err := LoopbackURL(rawURL, path)
	if err != nil {
		return nil, err
	}
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	tr := &connTransport{dial: dialLoopback(d), timeout: requestTimeout, maxIdle: concurrency}
	// No Client.Timeout: the transport bounds each request with its
	// connection's deadline, without a timer and a goroutine per request.
	return &HTTP{url: u, client: &http.Client{Transport: tr}}, nil
}

// URL is the endpoint the requests are posted to.
func (h *HTTP) URL() string { return h.url }

// Close closes the idle connections.
func (h *HTTP) Close() { h.client.CloseIdleConnections() }

// Run posts reqs to the server as plan says; see run.
func (h *HTTP) Run(ctx context.Context, reqs []Request, plan Plan, each func(*Sample)) (*Stats, error) {
	t := &target{client: h.client, url: func(int) string { return h.url }, bodies: true}
	return run(ctx, t, reqs, plan, each)
}

// dialLoopback dials localhost as 127.0.0.1 first and ::1 second;
// other addresses as given.
func dialLoopback(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil || host != "localhost" {
			return d.DialContext(ctx, network, addr)
		}
		c, err := d.DialContext(ctx, "tcp4", net.JoinHostPort("127.0.0.1", port))
		if err == nil {
			return c, nil
		}
		if c, err6 := d.DialContext(ctx, "tcp6", net.JoinHostPort("::1", port)); err6 == nil {
			return c, nil
		}
		return nil, err
	}
}
