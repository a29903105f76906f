package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/procq/procq/gsekit"
	"github.com/procq/procq/internal/synth"
	"github.com/procq/procq/server"
)

const serveUsage = "serve (--snapshot FILE | --data-dir DIR | --demo) [--addr HOST:PORT] [--admin-token TOKEN] [--app-credentials FILE] [--pprof ADDR] [--log-format text|json] [--log-level debug|info|warn|error] [--processes N] [--max-body BYTES] " + serveDataUsage + " " + serveFleetUsage

// runServe serves the HTTP API until SIGINT or SIGTERM; SIGHUP reloads
// the snapshot.
func runServe(args []string) error {
	fs := newFlags("serve")
	snap := fs.String("snapshot", "", "snapshot `FILE` to serve")
	demo := fs.Bool("demo", false, "serve a generated demo data set (instead of --snapshot or --data-dir) of --processes processes")
	addr := fs.String("addr", "127.0.0.1:8080", "`HOST:PORT` to listen on")
	credsPath := fs.String("app-credentials", "", "JSON `FILE` of app code to secret; when set, queries must carry matching bk_app_code/bk_app_secret")
	pprofAddr := fs.String("pprof", "", "`ADDR` to serve net/http/pprof on (loopback when no host is given)")
	logFormat := fs.String("log-format", "text", "log `FORMAT`: text or json (every stderr line is then a JSON object)")
	logLevel := fs.String("log-level", "info", "log `LEVEL`: debug, info, warn or error")
	demoN := processesFlag(fs)
	alias(fs, "demo-processes", "processes")
	maxBody := fs.Int64("max-body", gsekit.DefaultMaxBodyBytes, "largest request body in `BYTES`")
	slowLog := fs.Duration("slow-log", 0, "log the explain of every query slower than `DURATION` (0: off)")
	touch := fs.Bool("pretouch", true, "after the first load, touch the heap's headroom before answering: first requests as fast as later ones; RSS starts at about twice the data set's heap (--pretouch=false: grows with traffic)")
	dataDir := addDataDirFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkSource(*snap, *dataDir.dir, *demo); err != nil {
		return err
	}
	log, err := newLogger(*logFormat, *logLevel)
	if err != nil {
		return err
	}
	if *demoN <= 0 || *maxBody <= 0 {
		return usageErrorf("--processes and --max-body must be > 0")
	}
	cfg := server.Config{MaxBodyBytes: *maxBody, PprofAddr: *pprofAddr, Logger: log, SlowLog: *slowLog, Pretouch: *touch}
	switch {
	case *demo:
		cfg.Source = demoSource{*demoN, synth.DefaultSeed}
	case *snap != "":
		cfg.Source = snapshotSource{*snap}
	}
	if *credsPath != "" {
		if cfg.Credentials, err = gsekit.LoadCredentials(*credsPath); err != nil {
			return err
		}
		log.Info("app authentication on", "apps", cfg.Credentials.Len())
	}
	if err := dataDir.configure(&cfg, *snap); err != nil {
		return err
	}
	if *snap != "" {
		// Fail now, before listening, on a file that cannot be a snapshot.
		if _, err := os.Stat(*snap); err != nil {
			return fmt.Errorf("--snapshot: %w", err)
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	s := server.New(cfg)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			s.Reload() //nolint:errcheck // Reload logs its outcome; the old data stays on failure
		}
	}()
	if *demo {
		log.Info("generating a demo data set", "processes", *demoN)
	}
	return s.Run(ctx, ln, func(info *server.LoadInfo) {
		if *logFormat == "json" {
			// Every stderr line is JSON: the banner is one log record.
			logBanner(log, ln.Addr(), info, cfg)
			return
		}
		printBanner(ln.Addr(), info, *demo, cfg.Credentials != nil, cfg.AdminToken != "")
		printAdminBanner(ln.Addr(), cfg)
	})
}

// checkSource requires exactly one data source: a usage error (exit 2)
// names the flags when there is none.
func checkSource(snap, dataDir string, demo bool) error {
	switch {
	case snap == "" && dataDir == "" && !demo:
		return usageErrorf("no data to serve: give --snapshot FILE, --data-dir DIR or --demo")
	case demo && (snap != "" || dataDir != ""):
		return errors.New("--demo excludes --snapshot and --data-dir")
	}
	return nil
}

// newLogger returns a slog logger on stderr in format at level. A
// duration attribute is written as float seconds in both formats, as the
// server's own *_seconds attributes are.
func newLogger(format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usageErrorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv, ReplaceAttr: durationSeconds}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, usageErrorf("--log-format %q: want text or json", format)
}

// durationSeconds writes a duration attribute as float seconds.
func durationSeconds(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.Float64Value(a.Value.Duration().Seconds())
	}
	return a
}

// baseURL is the URL clients reach the listener addr at.
func baseURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		host, port = addr.String(), ""
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// logBanner is the banner as one log record, for --log-format json.
func logBanner(log *slog.Logger, addr net.Addr, info *server.LoadInfo, cfg server.Config) {
	base := baseURL(addr)
	log.Info("serving", "url", base+gsekit.Path, "records", info.Records, "source", info.Kind,
		"healthz", base+"/healthz", "metrics", base+"/metrics", "pid", os.Getpid(),
		"app_auth", cfg.Credentials != nil, "admin_token", cfg.AdminToken != "", "data_dir", cfg.DataDir != "")
}

// printBanner tells on stderr where the service is and how to query it.
func printBanner(addr net.Addr, info *server.LoadInfo, demo, auth, token bool) {
	base := baseURL(addr)
	what := info.Source
	if demo {
		what = "the demo data set"
	}
	body, reload := server.DemoRequest, ""
	if auth {
		creds := `"bk_app_code":"APP","bk_app_secret":"SECRET"`
		body = strings.Replace(body, "{", "{"+creds+",", 1)
		reload = " -d '{" + creds + "}'"
	}
	if token {
		reload = ` -H "Authorization: Bearer $` + adminTokenEnv + `"` + reload
	}
	fmt.Fprintf(os.Stderr, `procq serve: %d processes from %s at %s (pid %d)
  query:   curl -s %s%s -H 'Content-Type: application/json' -d '%s'
  health:  curl -s %s/healthz
  metrics: curl -s %s/metrics
`, info.Records, what, base, os.Getpid(), base, gsekit.Path, body, base, base)
	if !demo {
		// The demo data set has nothing to read again: its reload is a 409.
		fmt.Fprintf(os.Stderr, "  reload:  curl -s -X POST %s/admin/reload%s   (or kill -HUP %d)\n", base, reload, os.Getpid())
	}
	fmt.Fprintf(os.Stderr, "  stop:    Ctrl-C or kill %d\n", os.Getpid())
}
