// Package server is procq's HTTP service: the process_status endpoint of
// package gsekit, plus GET /healthz, GET /metrics (Prometheus) and
// POST /admin/reload, over one data set that a Source loads (and loads
// again on a reload, without downtime), or over a data directory of
// package store with its mutation endpoints. The server does not choose
// its data: the caller gives the Source. It is what `procq serve` runs;
// the command adds flags, signals and the sources.
//
// # Admin access
//
// Every /admin/ endpoint (POST /admin/reload and the mutation endpoints
// below) goes through one access policy. With Config.AdminToken set, a
// request must carry "Authorization: Bearer TOKEN" (the scheme in any
// case, RFC 7235; the token compared in constant time) and answers 401
// otherwise. Without a token, Run refuses to serve on an address that is
// not loopback whenever an endpoint that changes data or costs a reload is
// served: with a Reloadable Source or a data directory (ErrAdminUnprotected).
// A token with surrounding white space is refused by Run
// (ErrAdminTokenSpace). With Config.Credentials set, a reload must also
// carry bk_app_code and bk_app_secret in its body.
//
// # Mutation endpoints
//
// With Config.DataDir set, the server serves a data directory of package
// store instead of a Source, and takes changes over HTTP:
//
//	POST /admin/upsert      {"records":[RECORD,...]} or {"record":RECORD}
//	POST /admin/delete      {"bk_process_ids":[ID,...]} or {"bk_process_id":ID}
//	POST /admin/status      {"updates":[{"bk_process_id":ID,"process_status":S,"is_auto":B,"proc_inst_infos":[...]},...]}
//	POST /admin/apply       JSON Lines of the change format (see package store), one batch, parsed as it streams in
//	POST /admin/checkpoint  no body
//	GET  /admin/store       the store's state (stream_seq: the change stream position journaled, 0 outside a fleet)
//
// RECORD is the SPEC's record shape. Each request is one atomic batch,
// journaled (and synced as the store's policy says) before it answers:
//
//	200 {"result":true,"code":0,"message":"","data":{"seq":N,"version":V,"changed":C,"missing_count":M,"missing":[ID,...],"records":R}}
//	400 a body that is not valid (code 4100001, the message names the line or item)
//	401 a missing or wrong bearer token (code 401)
//	405 a wrong method (code 405); 413 a body over MaxAdminBodyBytes (code 4100001)
//	503 the data directory is not open yet, the store failed, or the client went away (code 503)
//	500 anything else (code 500)
//
// missing_count is the number of ids of deletes and status updates that
// named no process (skipped, not errors); missing lists the first 20 of
// them, in the order of the batch. Error messages never name files or
// peer addresses: the log has those.
//
// # Fleet
//
// With Config.Replica (package fleet), the data directory follows a
// change stream shared by a fleet of replicas: the mutation endpoints
// publish their batch instead of applying it and answer once the stream
// has acknowledged it, with data {"stream_seq":N,"messages":M,"ops":K}
// (503 when it did not), every answer carries X-Procq-Seq, a request
// carrying X-Procq-Min-Seq: N waits up to Config.MinSeqWait for the
// replica to apply N (503 "replica behind" then), and /healthz and
// /metrics report the replication (see Replica).
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/procq/procq/api"
	"github.com/procq/procq/engine"
	"github.com/procq/procq/gsekit"
	"github.com/procq/procq/pretouch"
	"github.com/procq/procq/store"
)

// Defaults of the Config fields left zero.
const (
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 15 * time.Second
	DefaultWriteTimeout      = 30 * time.Second
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultQueryTimeout      = 10 * time.Second
	DefaultShutdownTimeout   = 30 * time.Second
	DefaultReloadTimeout     = 10 * time.Minute
)

// DemoRequest is a request body that finds processes in the demo data set:
// the one of docs/demo-request.json.
const DemoRequest = `{"bk_biz_id":2,"expression_scope":{"bk_set_env":"3","service_instance_name":"*_gse_agent*","bk_process_id":"[0:100]"},"process_status_list":[1],"searches":["10.0"],"ordering":"-bk_host_innerip,bk_process_name","fields":["bk_process_id","bk_set_name","bk_module_name","bk_service_name","bk_process_name","bk_host_innerip","process_status"],"page":1,"pagesize":3}`

// Errors of loads and reloads; callers branch with errors.Is.
var (
	// ErrNoSnapshot is the error of a reload of a Source that is not
	// Reloadable, such as the generated demo data set.
	ErrNoSnapshot = errors.New("the data set served is generated and has nothing to reload; serve a --snapshot FILE or a --data-dir DIR to reload")
	// ErrNoSource is the error of a load with neither Source nor DataDir.
	ErrNoSource = errors.New("no data source configured")
)

// Config configures a Server: its data (Source, or DataDir) and limits;
// fields left zero take the defaults.
type Config struct {
	// Source is the data set served, loaded again by every reload;
	// DataDir replaces it.
	Source Source
	// Credentials, when not nil, are required of every query and reload
	// (bk_app_code and bk_app_secret in the body); a mismatch answers 401.
	Credentials *gsekit.Credentials
	// MaxBodyBytes caps a query body; 0 means gsekit.DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// QueryTimeout bounds one query; 0 means DefaultQueryTimeout.
	QueryTimeout time.Duration
	// SlowLog, when positive, logs (at warn) the explain of every query
	// that took at least this long.
	SlowLog time.Duration
	// Pretouch, when set, touches the heap's headroom once the first data
	// set is loaded, before it is served, and again after each reload
	// (pretouch.Heap): the first requests then reuse resident memory
	// instead of faulting in fresh pages, and the process's RSS starts at
	// about what traffic brings it to (the collection goal, about twice
	// the data set's heap).
	Pretouch bool
	// ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout are
	// those of http.Server; 0 means the Default of the same name.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// ShutdownTimeout bounds how long Run waits for requests in flight
	// when it stops; 0 means DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// ReloadTimeout is the write deadline of a POST /admin/reload, which
	// answers only once the data set is loaded; 0 means
	// DefaultReloadTimeout.
	ReloadTimeout time.Duration
	// PprofAddr, when set, is the address Run serves net/http/pprof on, on
	// a listener of its own; a missing host means 127.0.0.1.
	PprofAddr string
	// Logger receives the logs; nil discards them. Request logs are at
	// debug level when answered (and for every GET /healthz), info for a
	// client error (4xx), warn for a 503, error for any other server
	// error; durations are attributes named *_seconds, float seconds.
	Logger *slog.Logger
	// Registerer, when not nil, receives the server's metrics (procq_*,
	// procq_build_info included) so that an embedding process exports
	// them with its own, and GET /metrics serves it when it is also a
	// prometheus.Gatherer (such as a *prometheus.Registry), otherwise
	// prometheus.DefaultGatherer. Its metric names are fixed, so one
	// Registerer takes one Server (wrap it with
	// prometheus.WrapRegistererWith to tell several apart). When nil, the
	// server keeps a registry of its own, with the Go and process
	// collectors, which Gatherer returns.
	Registerer prometheus.Registerer

	// DataDir, when set, serves this data directory (package store)
	// instead of Source, and adds the mutation endpoints (see the package doc).
	DataDir string
	// Store tunes the data directory's store; the server sets its Live
	// and Logger.
	Store store.Options
	// AdminToken is the bearer token every /admin/ endpoint requires
	// (POST /admin/reload too); "" leaves them open, which Run allows on
	// a loopback address only, and a token with surrounding white space
	// is refused by Run.
	AdminToken string
	// MaxAdminBodyBytes caps a mutation body; 0 means
	// DefaultMaxAdminBodyBytes.
	MaxAdminBodyBytes int64
	// Replica, with DataDir, makes the server a replica of a fleet (see
	// Replica); MinSeqWait bounds the wait of X-Procq-Min-Seq, 0 meaning
	// DefaultMinSeqWait.
	Replica    Replica
	MinSeqWait time.Duration
}

// Kinds of data source, as GET /healthz names them.
const (
	KindSnapshot = "snapshot"
	KindDataDir  = "data-dir"
	KindDemo     = "demo"
)

// LoadInfo describes the data set being served.
type LoadInfo struct {
	// Source is the snapshot file or data directory, or "demo" for the
	// generated data set; it is logged, never sent to HTTP clients.
	Source string
	// Kind is KindSnapshot, KindDataDir or KindDemo.
	Kind string
	// Records is the number of process records.
	Records int
	// Created is when the snapshot was written or the demo generated.
	Created time.Time
	// LoadedAt is when the load finished.
	LoadedAt time.Time
	// Duration is how long reading and indexing took.
	Duration time.Duration
}

// Server serves one data set over HTTP. Its methods are safe for
// concurrent use.
type Server struct {
	cfg  Config
	log  *slog.Logger
	live engine.Live
	info atomic.Pointer[LoadInfo]
	m    *metrics
	// access is the policy of every /admin/ endpoint.
	access accessPolicy
	// loadMu makes loads and reloads take turns.
	loadMu sync.Mutex
	// root is the handler of every path.
	root http.Handler
	// data is the data directory served, with Config.DataDir.
	data dataDir
}

// New returns a server for cfg with no data loaded yet: it answers 503
// until Load (or Run) has loaded it.
func New(cfg Config) *Server {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.QueryTimeout, DefaultQueryTimeout)
	def(&cfg.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	def(&cfg.ReadTimeout, DefaultReadTimeout)
	def(&cfg.WriteTimeout, DefaultWriteTimeout)
	def(&cfg.IdleTimeout, DefaultIdleTimeout)
	def(&cfg.ShutdownTimeout, DefaultShutdownTimeout)
	def(&cfg.ReloadTimeout, DefaultReloadTimeout)
	def(&cfg.MinSeqWait, DefaultMinSeqWait)
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = gsekit.DefaultMaxBodyBytes
	}
	s := &Server{cfg: cfg, log: cfg.Logger, m: newMetrics(cfg.Registerer), access: newAccessPolicy(cfg.AdminToken)}
	s.m.reg.MustRegister(engineMetrics(s.live.Load)...)
	if cfg.Replica != nil {
		s.m.reg.MustRegister(replicationMetrics(cfg.Replica)...)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	opts := gsekit.HandlerOptions{
		MaxBodyBytes: cfg.MaxBodyBytes,
		Timeout:      cfg.QueryTimeout,
		Observe:      s.observe,
		SlowLog:      cfg.SlowLog,
		OnSlow:       s.slow,
	}
	if cfg.Credentials != nil {
		opts.Authorize = cfg.Credentials.Check
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.m.gather, promhttp.HandlerOpts{}))
	mux.HandleFunc("/admin/reload", s.admin("reload", http.MethodPost, s.adminReload))
	s.mountMutations(mux)
	mux.HandleFunc("/", gsekit.NotFound)
	s.root = s.withSeq(gsekit.Route(gsekit.NewHandler(s.live.Load, opts), s.logged(mux)))
	return s
}

// logged logs each request to h at the level statusLevel gives; the
// process_status endpoint logs through observe instead.
func (s *Server) logged(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		level := statusLevel(sw.status)
		if r.URL.Path == "/healthz" {
			// A probe: its 503 while loading is the designed answer.
			level = slog.LevelDebug
		}
		s.log.LogAttrs(r.Context(), level, "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("remote", r.RemoteAddr),
			slog.Int("status", sw.status),
			seconds("duration", time.Since(start)))
	})
}

// statusLevel is the log level of a request answered with status: debug
// when it succeeded, info for a client error (the client's problem, not
// the operator's), warn for 503 (nothing loaded yet, a query out of time,
// a client gone: transient), error for any other server error.
func statusLevel(status int) slog.Level {
	switch {
	case status == http.StatusServiceUnavailable:
		return slog.LevelWarn
	case status >= 500:
		return slog.LevelError
	case status >= 400:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

// seconds is the log attribute of a duration: key_seconds, float seconds,
// whatever the handler (slog's JSON handler would write nanoseconds).
func seconds(key string, d time.Duration) slog.Attr {
	return slog.Float64(key+"_seconds", d.Seconds())
}

// statusWriter remembers the status written through it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Gatherer returns the metrics GET /metrics serves.
func (s *Server) Gatherer() prometheus.Gatherer { return s.m.gather }

// Handler returns the handler of every path the server answers.
func (s *Server) Handler() http.Handler { return s.root }

// Engine returns the engine serving now, nil before the first load.
func (s *Server) Engine() *engine.Engine { return s.live.Load() }

// Info describes the data set serving now, nil before the first load.
func (s *Server) Info() *LoadInfo { return s.info.Load() }

// Load loads the data set from the configured Source, or opens the data
// directory, and swaps it in. On failure the data served, if any, is
// unchanged.
func (s *Server) Load() (*LoadInfo, error) { return s.load(context.Background()) }

func (s *Server) load(ctx context.Context) (*LoadInfo, error) {
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	if s.cfg.DataDir != "" {
		return s.loadDataDir(ctx)
	}
	if s.cfg.Source == nil {
		return nil, ErrNoSource
	}
	start := time.Now()
	e, info, err := s.cfg.Source.Load(ctx)
	if err != nil {
		return nil, err
	}
	info.Records = e.Len()
	info.LoadedAt = time.Now()
	info.Duration = info.LoadedAt.Sub(start)
	if prev := s.live.Load(); prev != nil {
		// A new engine starts at version 1: continue the versions of the
		// one it replaces, so that an ETag never names two data sets.
		e = e.WithVersion(prev.Version() + 1)
	} else {
		s.pretouch()
	}
	old := s.live.Swap(e)
	s.info.Store(&info)
	s.m.loaded(&info)
	if old != nil {
		// The old data set is garbage once the requests still using it
		// end; hand its memory back now rather than at the pace of the
		// scavenger, so that a reload does not leave the process at twice
		// its size. With Pretouch the process keeps its headroom instead:
		// the old data set's pages become the new one's, already
		// resident, so the first requests after a reload do not fault.
		if s.cfg.Pretouch {
			go s.pretouch()
		} else {
			go debug.FreeOSMemory()
		}
	}
	s.log.Info("data set loaded", "source", info.Source, "records", info.Records,
		seconds("duration", info.Duration), "created", info.Created.UTC().Format(time.RFC3339))
	return &info, nil
}

// pretouch touches the heap's headroom when Config.Pretouch asks it.
func (s *Server) pretouch() {
	if !s.cfg.Pretouch {
		return
	}
	start := time.Now()
	n := pretouch.Heap(0)
	s.log.Info("heap pretouched", "bytes", n, seconds("duration", time.Since(start)))
}

// Reload loads the data set again into a new engine and swaps it in;
// requests in flight finish on the old one. On failure the old data keeps
// being served and the error says why; for a Source that is not
// Reloadable (the demo data set) it is ErrNoSnapshot. Reloads take turns.
func (s *Server) Reload() (*LoadInfo, error) {
	if !s.reloadable() {
		s.m.reloads.WithLabelValues("error").Inc()
		s.log.Warn("reload refused", "err", ErrNoSnapshot)
		return nil, ErrNoSnapshot
	}
	s.log.Info("reloading")
	info, err := s.Load()
	if err != nil {
		s.m.reloads.WithLabelValues("error").Inc()
		err = fmt.Errorf("reload failed, still serving the previous data: %w", err)
		s.log.Warn("reload failed", "err", err)
		return nil, err
	}
	s.m.reloads.WithLabelValues("ok").Inc()
	return info, nil
}

// reloadable reports whether a reload reads data that may have changed.
func (s *Server) reloadable() bool {
	return s.cfg.DataDir != "" || (s.cfg.Source != nil && s.cfg.Source.Reloadable())
}

// observe logs and counts one answered query.
func (s *Server) observe(r *http.Request, o *gsekit.Outcome) {
	s.m.observe(o.Status, o.Code, o.Duration)
	level := statusLevel(o.Status)
	if o.Stack != nil {
		level = slog.LevelError
	}
	if !s.log.Enabled(r.Context(), level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.String("remote", r.RemoteAddr),
		slog.Int("status", o.Status),
		slog.Int("code", o.Code),
		slog.Int("bytes", o.Bytes),
		seconds("duration", o.Duration),
	}
	if o.Engine != nil {
		attrs = append(attrs, slog.Uint64("data_version", o.Engine.Version()))
	}
	if o.Err != nil {
		attrs = append(attrs, slog.String("err", o.Err.Error()))
	}
	if o.Stack != nil {
		attrs = append(attrs, slog.String("stack", string(o.Stack)))
	}
	msg := "request"
	if o.Err != nil {
		msg = "request failed"
	}
	s.log.LogAttrs(r.Context(), level, msg, attrs...)
}

// slow logs the explain of a slow query.
func (s *Server) slow(r *http.Request, took time.Duration, explain []byte) {
	s.log.Warn("slow query", "path", r.URL.Path, "remote", r.RemoteAddr, seconds("duration", took), "explain", string(explain))
}

// healthz answers 200 with the kind of source served (never its path),
// the data set's size and its data version once loaded, 503 before.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	info := s.info.Load()
	if info == nil {
		gsekit.WriteJSON(w, http.StatusServiceUnavailable, []byte(`{"status":"loading"}`))
		return
	}
	var version uint64
	if e := s.live.Load(); e != nil {
		version = e.Version()
	}
	b, _ := json.Marshal(struct {
		Status      string             `json:"status"`
		Source      string             `json:"source"`
		Records     int                `json:"records"`
		LoadedAt    time.Time          `json:"loaded_at"`
		DataVersion uint64             `json:"data_version"`
		Replication *replicationHealth `json:"replication,omitempty"`
	}{"ok", info.Kind, info.Records, info.LoadedAt.UTC(), version, s.replicationHealth()})
	gsekit.WriteJSON(w, http.StatusOK, b)
}

// reloadReply is the data of a successful POST /admin/reload. Source is
// the kind of source, not its path.
type reloadReply struct {
	Source      string    `json:"source"`
	Records     int       `json:"records"`
	Created     time.Time `json:"created"`
	LoadSeconds float64   `json:"load_seconds"`
}

// adminReload answers POST /admin/reload, which the access policy
// already let through: a reload, with the envelope. With app credentials
// configured, the body must carry them too.
func (s *Server) adminReload(w http.ResponseWriter, r *http.Request) {
	if c := s.cfg.Credentials; c != nil {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
		if err != nil || !c.Check(gsekit.AppCredentials(body)) {
			s.log.Info("reload refused: app authentication failed", "remote", r.RemoteAddr)
			gsekit.WriteError(w, http.StatusUnauthorized, api.CodeUnauthorized, "bk_app_code/bk_app_secret: app authentication failed")
			return
		}
	}
	// Loading a large snapshot may outlast the server's write timeout.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.cfg.ReloadTimeout))
	info, err := s.Reload()
	switch {
	case errors.Is(err, ErrNoSnapshot):
		gsekit.WriteError(w, http.StatusConflict, api.CodeConflict, err.Error())
	case err != nil:
		// The error names the file; it is logged (by Reload), not sent.
		gsekit.WriteError(w, http.StatusInternalServerError, api.CodeInternal,
			"reload failed, still serving the previous data (the server log says why)")
	default:
		data, _ := json.Marshal(reloadReply{info.Kind, info.Records, info.Created.UTC(), info.Duration.Seconds()})
		b := []byte(`{"result":true,"code":0,"message":"reloaded","data":`)
		b = append(append(b, data...), '}')
		gsekit.WriteJSON(w, http.StatusOK, b)
	}
}

// Run serves HTTP on ln until ctx ends, then shuts down gracefully: new
// connections are refused, requests in flight finish (for up to
// ShutdownTimeout), and Run returns nil. It loads the data set while
// already serving (queries and /healthz answer 503 meanwhile) and calls
// ready, when not nil, once it is loaded. A failing first load stops the
// server and is returned. With PprofAddr set it also serves the profiling
// handlers there.
func (s *Server) Run(ctx context.Context, ln net.Listener, ready func(*LoadInfo)) error {
	if err := s.access.checkListener(ln.Addr(), s.adminServed()); err != nil {
		return err
	}
	if s.cfg.AdminToken == "" && s.adminServed() {
		s.log.Warn("admin endpoints open without an admin token (loopback only)", "addr", ln.Addr().String())
	}
	defer s.closeDataDir() //nolint:errcheck // shutdown closes it and reports; this covers the other ways out
	srv := &http.Server{
		Handler:           s.root,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	var ps *http.Server
	if s.cfg.PprofAddr != "" {
		var err error
		if ps, _, err = s.startPprof(s.cfg.PprofAddr); err != nil {
			return err
		}
		defer ps.Close()
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	s.log.Info("listening", "addr", ln.Addr().String())

	loaded := make(chan error, 1)
	go func() {
		info, err := s.load(ctx)
		if err == nil && ready != nil {
			ready(info)
		}
		loaded <- err
	}()
	for {
		select {
		case err := <-served:
			return fmt.Errorf("serve %s: %w", ln.Addr(), err)
		case err := <-loaded:
			if err != nil {
				s.log.Error("load failed", "err", err)
				srv.Close()
				<-served
				return err
			}
			loaded = nil
		case <-ctx.Done():
			return s.shutdown(srv, served)
		}
	}
}

// adminServed reports whether an admin endpoint that changes data or
// costs a reload is served: always but for a Source that is not
// Reloadable (the demo data set), whose reload answers 409 at no cost.
func (s *Server) adminServed() bool { return s.reloadable() }

// shutdown stops srv gracefully and waits for Serve to return.
func (s *Server) shutdown(srv *http.Server, served <-chan error) error {
	s.log.Info("shutting down: finishing requests in flight", seconds("timeout", s.cfg.ShutdownTimeout))
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(ctx)
	if err != nil {
		srv.Close()
		err = fmt.Errorf("shutdown: requests still running after %s were cut: %w", s.cfg.ShutdownTimeout, err)
	}
	err = errors.Join(err, s.closeDataDir())
	if serr := <-served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, fmt.Errorf("serve: %w", serr))
	}
	s.log.Info("stopped")
	return err
}

// startPprof serves net/http/pprof on addr (loopback when addr has no
// host) on a mux of its own, and returns the address it listens on.
func (s *Server) startPprof(addr string) (*http.Server, net.Addr, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		// A bare port.
		if _, perr := strconv.ParseUint(addr, 10, 16); perr != nil {
			return nil, nil, fmt.Errorf("pprof address %q: want HOST:PORT or PORT: %w", addr, err)
		}
		host, port = "", addr
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if ip := net.ParseIP(host); (ip == nil && host != "localhost") || (ip != nil && !ip.IsLoopback()) {
		s.log.Warn("pprof served on a non-loopback address", "addr", net.JoinHostPort(host, port))
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, nil, fmt.Errorf("pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	// No write timeout: a CPU profile or trace streams for as long as asked.
	ps := &http.Server{Handler: mux, ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	go ps.Serve(ln) //nolint:errcheck // ends with ErrServerClosed when Run returns
	s.log.Info("pprof listening", "addr", ln.Addr().String())
	return ps, ln.Addr(), nil
}
