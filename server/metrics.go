package server

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/procq/procq/engine"
	"github.com/procq/procq/internal/buildinfo"
)

// metrics are the server's Prometheus metrics: in a registry of its own
// (so that several servers, in tests, do not collide), or in the
// Config.Registerer of an embedding process.
type metrics struct {
	// reg receives every metric; gather is what GET /metrics serves.
	reg      prometheus.Registerer
	gather   prometheus.Gatherer
	requests *prometheus.CounterVec
	latency  prometheus.Histogram
	records  prometheus.Gauge
	loadDur  prometheus.Gauge
	loadedAt prometheus.Gauge
	reloads  *prometheus.CounterVec
	// created is when the snapshot being served was written, as Unix
	// nanoseconds; 0 before the first load.
	created atomic.Int64
}

// newMetrics registers the server's metrics with reg, or with a registry
// of its own, holding the Go and process collectors too, when reg is nil.
func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		reg:    reg,
		gather: prometheus.DefaultGatherer,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "procq_requests_total",
			Help: "process_status requests answered, by HTTP status and envelope code (0 is success).",
		}, []string{"status", "code"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "procq_request_duration_seconds",
			Help: "Time to answer a process_status request, from reading the body to writing the answer.",
			// 50µs to ~3.3s.
			Buckets: prometheus.ExponentialBuckets(50e-6, 2, 17),
		}),
		records: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "procq_records_loaded",
			Help: "Process records in the data set being served.",
		}),
		loadDur: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "procq_snapshot_load_duration_seconds",
			Help: "Time the last successful load or reload took, reading and indexing.",
		}),
		loadedAt: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "procq_snapshot_loaded_timestamp_seconds",
			Help: "Unix time of the last successful load or reload.",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "procq_reloads_total",
			Help: "Reloads asked for (SIGHUP or POST /admin/reload), by result: ok or error.",
		}, []string{"result"}),
	}
	age := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "procq_snapshot_age_seconds",
		Help: "Age of the data being served: seconds since its snapshot was written (or the demo data set generated); 0 before the first load.",
	}, func() float64 {
		c := m.created.Load()
		if c == 0 {
			return 0
		}
		return time.Since(time.Unix(0, c)).Seconds()
	})
	m.reloads.WithLabelValues("ok")
	m.reloads.WithLabelValues("error")
	if reg == nil {
		own := prometheus.NewRegistry()
		own.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		m.reg, m.gather = own, own
	} else if g, ok := reg.(prometheus.Gatherer); ok {
		m.gather = g
	}
	m.reg.MustRegister(m.requests, m.latency, m.records, m.loadDur, m.loadedAt, m.reloads, age, buildInfo())
	return m
}

// buildInfo is procq_build_info: always 1, the labels say what the binary
// was built from.
func buildInfo() prometheus.Collector {
	bi := buildinfo.Get()
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "procq_build_info",
		Help: "Always 1; the labels are the module version, the vcs commit and the Go version of the running binary.",
		ConstLabels: prometheus.Labels{
			"version":    bi.Version,
			"commit":     bi.CommitLabel(),
			"go_version": bi.GoVersion,
		},
	})
	g.Set(1)
	return g
}

// readOf returns a function reading f of what current returns, 0 while
// it returns nil (nothing loaded or opened yet).
func readOf[T any](current func() *T, f func(*T) float64) func() float64 {
	return func() float64 {
		if v := current(); v != nil {
			return f(v)
		}
		return 0
	}
}

// gauge returns a gauge that calls read when scraped.
func gauge(name, help string, read func() float64) prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, read)
}

// engineMetrics exports the term cache and the delta of the engine
// current returns.
func engineMetrics(current func() *engine.Engine) []prometheus.Collector {
	cache := func(f func(engine.CacheStats) float64) func() float64 {
		return readOf(current, func(e *engine.Engine) float64 { return f(e.CacheStats()) })
	}
	delta := func(f func(engine.DeltaStats) float64) func() float64 {
		return readOf(current, func(e *engine.Engine) float64 { return f(e.Delta()) })
	}
	return []prometheus.Collector{
		gauge("procq_term_cache_bytes", "Bytes the term cache holds, pattern text included.",
			cache(func(c engine.CacheStats) float64 { return float64(c.Bytes) })),
		gauge("procq_term_cache_limit_bytes", "The term cache's bound in bytes.",
			cache(func(c engine.CacheStats) float64 { return float64(c.Limit) })),
		gauge("procq_term_cache_entries", "Patterns the term cache holds.",
			cache(func(c engine.CacheStats) float64 { return float64(c.Entries) })),
		gauge("procq_term_cache_evictions", "Entries dropped from the term cache of the engine served to stay within its bound.",
			cache(func(c engine.CacheStats) float64 { return float64(c.Evictions) })),
		gauge("procq_delta_records", "Records upserted since the engine's base was built (not merged yet).",
			delta(func(d engine.DeltaStats) float64 { return float64(d.Records) })),
		gauge("procq_delta_tombstones", "Base rows deleted or replaced since the engine's base was built.",
			delta(func(d engine.DeltaStats) float64 { return float64(d.Tombstones) })),
	}
}

// observe counts one answered request.
func (m *metrics) observe(status, code int, d time.Duration) {
	m.requests.WithLabelValues(strconv.Itoa(status), strconv.Itoa(code)).Inc()
	m.latency.Observe(d.Seconds())
}

// loaded records a successful load.
func (m *metrics) loaded(info *LoadInfo) {
	m.records.Set(float64(info.Records))
	m.loadDur.Set(info.Duration.Seconds())
	m.loadedAt.Set(float64(info.LoadedAt.UnixNano()) / 1e9)
	m.created.Store(info.Created.UnixNano())
}
