package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/procq/procq/api"
	"github.com/procq/procq/gsekit"
	"github.com/procq/procq/store"
)

// DefaultMaxAdminBodyBytes is the body limit of the mutation endpoints
// when Config.MaxAdminBodyBytes is zero: 32 MiB holds a status batch of
// about 400k updates or some 35k full records. A batch costs several times
// its body in memory while it is applied (a 72 MB file of deletes peaked at
// about 500 MB of heap: BenchmarkAdminApplyBody), so larger changes go in
// several requests, or through `procq apply` on the data directory.
const DefaultMaxAdminBodyBytes = 32 << 20

// dataDir is the state of a server that serves a data directory.
type dataDir struct {
	st        atomic.Pointer[store.Store]
	mutations *prometheus.CounterVec
	duration  *prometheus.HistogramVec
}

// mountMutations adds the mutation endpoints to mux and their metrics to
// the registry, when the server serves a data directory.
func (s *Server) mountMutations(mux *http.ServeMux) {
	if s.cfg.DataDir == "" {
		return
	}
	if s.cfg.MaxAdminBodyBytes <= 0 {
		s.cfg.MaxAdminBodyBytes = DefaultMaxAdminBodyBytes
	}
	d := &s.data
	d.mutations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "procq_mutations_total",
		Help: "Requests to the mutation endpoints, by endpoint and result (ok, invalid, unauthorized, error).",
	}, []string{"endpoint", "result"})
	d.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "procq_mutation_duration_seconds",
		Help:    "Time to apply and journal a mutation (or write a checkpoint), by endpoint.",
		Buckets: prometheus.ExponentialBuckets(100e-6, 2, 18), // 100µs to ~13s
	}, []string{"endpoint"})
	stat := func(f func(store.Stats) float64) func() float64 {
		return readOf(d.st.Load, func(st *store.Store) float64 { return f(st.Stats()) })
	}
	s.m.reg.MustRegister(d.mutations, d.duration,
		gauge("procq_journal_bytes", "Size of the data directory's journal file.",
			stat(func(st store.Stats) float64 { return float64(st.JournalBytes) })),
		gauge("procq_journal_entries", "Processes changed since the snapshot (journal entries).",
			stat(func(st store.Stats) float64 { return float64(st.JournalEntries) })),
		gauge("procq_data_version", "Version of the data being served (engine.Version); it grows with every applied batch and checkpoint.",
			stat(func(st store.Stats) float64 { return float64(st.Version) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "procq_merges_total",
			Help: "Merged engines (delta folded into a new base in the background) published since the data directory was opened."},
			readOf(d.st.Load, func(st *store.Store) float64 { return float64(st.MergeStats().Merges) })),
		gauge("procq_merge_last_build_seconds", "How long the last background merge took to build its base.",
			readOf(d.st.Load, func(st *store.Store) float64 { return st.MergeStats().Last.Seconds() })))

	mux.HandleFunc("/admin/upsert", s.admin("upsert", http.MethodPost, s.mutation("upsert", store.KindUpsert)))
	mux.HandleFunc("/admin/delete", s.admin("delete", http.MethodPost, s.mutation("delete", store.KindDelete)))
	mux.HandleFunc("/admin/status", s.admin("status", http.MethodPost, s.mutation("status", store.KindStatus)))
	mux.HandleFunc("/admin/apply", s.admin("apply", http.MethodPost, s.mutation("apply", "")))
	mux.HandleFunc("/admin/checkpoint", s.admin("checkpoint", http.MethodPost, s.adminCheckpoint))
	mux.HandleFunc("/admin/store", s.admin("store", http.MethodGet, s.adminStore))
}

// loadDataDir opens the data directory (replaying its journal; ctx ending
// stops the open) and serves it; the store publishes every later version
// in s.live itself.
func (s *Server) loadDataDir(ctx context.Context) (*LoadInfo, error) {
	if st := s.data.st.Load(); st != nil {
		// Already open: a data directory is kept current by its writes,
		// there is nothing to read again.
		s.log.Info("reload: serving a data directory, which is always current; nothing to do", "data_dir", s.cfg.DataDir)
		info := s.dataInfo(time.Now(), 0)
		return info, nil
	}
	start := time.Now()
	opts := s.cfg.Store
	opts.Live, opts.Logger = &s.live, s.log
	st, err := store.OpenContext(ctx, s.cfg.DataDir, opts)
	if err != nil {
		return nil, err
	}
	if rep := s.cfg.Replica; rep != nil {
		if err := rep.Start(st); err != nil {
			return nil, errors.Join(err, st.Close())
		}
	}
	s.data.st.Store(st)
	s.pretouch()
	info := s.dataInfo(time.Now(), time.Since(start))
	s.m.loaded(info)
	s.log.Info("data directory opened", "data_dir", s.cfg.DataDir, "records", info.Records,
		seconds("duration", info.Duration), "seq", st.Stats().Seq)
	return info, nil
}

// dataInfo describes the data directory's current data and stores it as
// the server's LoadInfo.
func (s *Server) dataInfo(loadedAt time.Time, d time.Duration) *LoadInfo {
	info := &LoadInfo{Source: s.cfg.DataDir, Kind: KindDataDir, LoadedAt: loadedAt, Duration: d, Created: loadedAt}
	if old := s.info.Load(); old != nil && d == 0 {
		info.LoadedAt, info.Duration, info.Created = old.LoadedAt, old.Duration, old.Created
	}
	if e := s.live.Load(); e != nil {
		info.Records = e.Len()
	}
	s.info.Store(info)
	s.m.records.Set(float64(info.Records))
	return info
}

// closeDataDir closes the data directory, if one is open.
func (s *Server) closeDataDir() error {
	st := s.data.st.Swap(nil)
	if st == nil {
		return nil
	}
	if rep := s.cfg.Replica; rep != nil {
		if err := rep.Stop(); err != nil {
			s.log.Warn("replica: stopping the stream's follower failed", "err", err)
		}
	}
	if err := st.Close(); err != nil {
		return fmt.Errorf("data dir %s: %w", s.cfg.DataDir, err)
	}
	return nil
}

// adminFail answers an admin request with the error envelope, counting
// it for the mutation endpoints.
func (s *Server) adminFail(w http.ResponseWriter, endpoint, result string, status, code int, msg string) {
	if s.data.mutations != nil && endpoint != "reload" {
		s.data.mutations.WithLabelValues(endpoint, result).Inc()
	}
	gsekit.WriteError(w, status, code, msg)
}

// openStore returns the open store, answering 503 when there is none.
func (s *Server) openStore(w http.ResponseWriter, endpoint string) *store.Store {
	st := s.data.st.Load()
	if st == nil {
		s.adminFail(w, endpoint, "error", http.StatusServiceUnavailable, api.CodeUnavailable, "data directory not open yet")
	}
	return st
}

// maxMissingListed is how many of the ids a batch found missing an
// answer lists; missing_count counts them all.
const maxMissingListed = 20

// mutationReply is the data of a successful mutation.
type mutationReply struct {
	Seq          uint64  `json:"seq"`
	Version      uint64  `json:"version"`
	Changed      int     `json:"changed"`
	MissingCount int     `json:"missing_count"`
	Missing      []int64 `json:"missing"`
	Records      int     `json:"records"`
}

// mutation returns the handler of one mutation endpoint: the body is one
// op object of kind, or with kind "" a whole change file, which is parsed
// as it streams in rather than read whole first.
func (s *Server) mutation(endpoint, kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(time.Now().Add(s.cfg.ReloadTimeout))
		ops, err := s.readOps(w, r, kind)
		if err != nil {
			s.bodyFailed(w, r, endpoint, err)
			return
		}
		if s.cfg.Replica != nil {
			s.publish(w, r, endpoint, ops)
			return
		}
		st := s.openStore(w, endpoint)
		if st == nil {
			return
		}
		// Rebuilding the indexes of a large data set may outlast the
		// server's write timeout.
		_ = rc.SetWriteDeadline(time.Now().Add(s.cfg.ReloadTimeout))
		start := time.Now()
		res, err := st.Apply(r.Context(), ops)
		s.data.duration.WithLabelValues(endpoint).Observe(time.Since(start).Seconds())
		if err != nil {
			s.applyFailed(w, endpoint, err)
			return
		}
		info := s.dataInfo(time.Time{}, 0)
		s.data.mutations.WithLabelValues(endpoint, "ok").Inc()
		s.log.Info("mutation applied", "endpoint", endpoint, "ops", len(ops), "seq", res.Seq,
			"changed", res.Changed, "missing", len(res.Missing), seconds("duration", time.Since(start)))
		missing := res.Missing[:min(len(res.Missing), maxMissingListed)]
		if missing == nil {
			missing = []int64{}
		}
		gsekit.WriteData(w, mutationReply{res.Seq, res.Version, res.Changed, len(res.Missing), missing, info.Records})
	}
}

// readOps reads and parses the body of a mutation: a change file (kind
// "") line by line as it arrives, one op object whole.
func (s *Server) readOps(w http.ResponseWriter, r *http.Request, kind string) ([]store.Op, error) {
	body := http.MaxBytesReader(w, r.Body, s.cfg.MaxAdminBodyBytes)
	if kind == "" {
		return store.ParseOps(body, "body")
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	return store.ParseOp(b, kind)
}

// bodyFailed answers a mutation body that could not be read or parsed:
// 413 over the limit, 400 otherwise. A read error (a client gone or too
// slow) is logged, not sent: it names the peer's address.
func (s *Server) bodyFailed(w http.ResponseWriter, r *http.Request, endpoint string, err error) {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		s.adminFail(w, endpoint, "invalid", http.StatusRequestEntityTooLarge, api.CodeValidation,
			fmt.Sprintf("request body larger than %d bytes", tooBig.Limit))
	case errors.Is(err, store.ErrInvalidOp):
		s.adminFail(w, endpoint, "invalid", http.StatusBadRequest, api.CodeValidation, err.Error())
	default:
		s.log.Info("mutation body not read", "endpoint", endpoint, "remote", r.RemoteAddr, "err", err)
		s.adminFail(w, endpoint, "invalid", http.StatusBadRequest, api.CodeValidation, "reading request body failed")
	}
}

// applyFailed answers a write the store refused or failed.
func (s *Server) applyFailed(w http.ResponseWriter, endpoint string, err error) {
	switch {
	case errors.Is(err, store.ErrInvalidOp):
		s.adminFail(w, endpoint, "invalid", http.StatusBadRequest, api.CodeValidation, err.Error())
	case errors.Is(err, store.ErrFailed), errors.Is(err, store.ErrClosed),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		s.log.Warn("mutation not applied", "endpoint", endpoint, "err", err)
		s.adminFail(w, endpoint, "error", http.StatusServiceUnavailable, api.CodeUnavailable, "not applied: "+unavailableReason(err))
	default:
		s.log.Error("mutation failed", "endpoint", endpoint, "err", err)
		s.adminFail(w, endpoint, "error", http.StatusInternalServerError, api.CodeInternal, "not applied: internal error (see the server log)")
	}
}

// unavailableReason says why a write was not applied, without the store's
// own message, which may name files: that one goes to the log.
func unavailableReason(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.Is(err, context.Canceled):
		return "canceled: the client went away"
	case errors.Is(err, store.ErrClosed):
		return "the data directory is closed"
	}
	return "the store failed (see the server log)"
}

// adminCheckpoint answers POST /admin/checkpoint once the checkpoint is
// done.
func (s *Server) adminCheckpoint(w http.ResponseWriter, r *http.Request) {
	const endpoint = "checkpoint"
	st := s.openStore(w, endpoint)
	if st == nil {
		return
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.cfg.ReloadTimeout))
	info, err := st.Checkpoint(r.Context())
	s.data.duration.WithLabelValues(endpoint).Observe(info.Duration.Seconds())
	if err != nil {
		s.applyFailed(w, endpoint, err)
		return
	}
	s.data.mutations.WithLabelValues(endpoint, "ok").Inc()
	gsekit.WriteData(w, struct {
		Seq                uint64  `json:"seq"`
		Skipped            bool    `json:"skipped"`
		Records            int     `json:"records"`
		SnapshotBytes      int64   `json:"snapshot_bytes"`
		JournalBytesBefore int64   `json:"journal_bytes_before"`
		JournalBytesAfter  int64   `json:"journal_bytes_after"`
		Seconds            float64 `json:"seconds"`
	}{info.Seq, info.Skipped, info.Records, info.SnapshotBytes, info.JournalBytesBefore, info.JournalBytesAfter, info.Duration.Seconds()})
}

// adminStore answers GET /admin/store with the store's state.
func (s *Server) adminStore(w http.ResponseWriter, r *http.Request) {
	const endpoint = "store"
	st := s.openStore(w, endpoint)
	if st == nil {
		return
	}
	stats := st.Stats()
	reply := struct {
		DataDir        string `json:"data_dir"`
		Seq            uint64 `json:"seq"`
		SnapshotSeq    uint64 `json:"snapshot_seq"`
		Snapshot       string `json:"snapshot"`
		JournalEntries int    `json:"journal_entries"`
		JournalBytes   int64  `json:"journal_bytes"`
		Records        int    `json:"records"`
		Version        uint64 `json:"version"`
		StreamSeq      uint64 `json:"stream_seq"`
		LastCheckpoint string `json:"last_checkpoint_error,omitempty"`
		Failed         string `json:"failed,omitempty"`
	}{DataDir: st.Dir(), Seq: stats.Seq, SnapshotSeq: stats.SnapshotSeq, Snapshot: stats.Snapshot,
		JournalEntries: stats.JournalEntries, JournalBytes: stats.JournalBytes, Records: stats.Records, Version: stats.Version}
	reply.StreamSeq, _ = st.StreamSeq() // 0 when it cannot be read: the journal's head is damaged
	if stats.LastCheckpointErr != nil {
		reply.LastCheckpoint = stats.LastCheckpointErr.Error()
	}
	if stats.Failed != nil {
		reply.Failed = stats.Failed.Error()
	}
	gsekit.WriteData(w, reply)
}
