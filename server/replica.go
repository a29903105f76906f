package server

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/procq/procq/api"
	"github.com/procq/procq/gsekit"
	"github.com/procq/procq/store"
)

// Headers of a server in a fleet.
const (
	// HeaderSeq, on every answer of a replica, is the stream sequence of
	// the last change message it had applied when the request came in:
	// the answer reflects at least that.
	HeaderSeq = "X-Procq-Seq"
	// HeaderMinSeq on a request asks the replica to answer only once it
	// has applied that stream sequence, waiting at most
	// Config.MinSeqWait (503 after that).
	HeaderMinSeq = "X-Procq-Min-Seq"
)

// DefaultMinSeqWait is how long a request carrying X-Procq-Min-Seq waits
// for its replica when Config.MinSeqWait is zero.
const DefaultMinSeqWait = time.Second

// Replica links a server that serves a data directory to a fleet of
// replicas fed by one change stream (package fleet implements it). With
// one, the mutation endpoints publish their batch to the stream instead of
// applying it, and answer once the stream has acknowledged it; the
// replica applies it, as every other replica does, when the stream
// delivers it. Every answer carries X-Procq-Seq, requests may carry
// X-Procq-Min-Seq, and /healthz and /metrics report the replication.
type Replica interface {
	// Start begins applying the stream to st, which the server has just
	// opened; Stop ends it before the server closes st.
	Start(st *store.Store) error
	Stop() error
	// Publish publishes ops to the stream and returns, once the stream
	// has acknowledged them, the stream sequence whose application makes
	// all of them visible, and the number of messages they became.
	Publish(ctx context.Context, ops []store.Op) (seq uint64, messages int, err error)
	// Applied is the stream sequence of the last message applied.
	Applied() uint64
	// WaitApplied waits until Applied reaches seq or ctx ends.
	WaitApplied(ctx context.Context, seq uint64) error
	// Lag is how many messages of the replica's subjects the stream held
	// past the last one applied; AppliedTotal counts the messages applied.
	Lag() uint64
	AppliedTotal() uint64
	// Health says why the replica is not following the stream now, nil
	// when it is.
	Health() error
}

// withSeq wraps h, for a server with a Replica, with X-Procq-Seq on every
// answer and the wait of X-Procq-Min-Seq.
func (s *Server) withSeq(h http.Handler) http.Handler {
	rep := s.cfg.Replica
	if rep == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get(HeaderMinSeq); v != "" {
			if !s.waitMinSeq(w, r, v) {
				return
			}
		}
		w.Header().Set(HeaderSeq, strconv.FormatUint(rep.Applied(), 10))
		h.ServeHTTP(w, r)
	})
}

// waitMinSeq waits until the replica has applied the stream sequence v
// names, answering 400 (v is not one) or 503 (the wait ran out) and
// returning false when it cannot.
func (s *Server) waitMinSeq(w http.ResponseWriter, r *http.Request, v string) bool {
	rep := s.cfg.Replica
	want, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		gsekit.WriteError(w, http.StatusBadRequest, api.CodeValidation,
			fmt.Sprintf("%s: want a stream sequence (an integer >= 0), got %q", HeaderMinSeq, v))
		return false
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.MinSeqWait)
	defer cancel()
	if err := rep.WaitApplied(ctx, want); err != nil {
		got := rep.Applied()
		w.Header().Set(HeaderSeq, strconv.FormatUint(got, 10))
		gsekit.WriteError(w, http.StatusServiceUnavailable, api.CodeUnavailable,
			fmt.Sprintf("replica behind: it has applied stream sequence %d, not yet the %d that %s asks for (waited %s)",
				got, want, HeaderMinSeq, s.cfg.MinSeqWait))
		return false
	}
	return true
}

// replicationMetrics are the metrics of a server's Replica.
func replicationMetrics(rep Replica) []prometheus.Collector {
	return []prometheus.Collector{
		gauge("procq_replication_lag_messages", "Messages of the replica's subjects the change stream held past the last one applied.",
			func() float64 { return float64(rep.Lag()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "procq_replication_applied_total",
			Help: "Change stream messages applied since the data directory was opened."},
			func() float64 { return float64(rep.AppliedTotal()) }),
		gauge("procq_replication_applied_seq", "Stream sequence of the last change message applied.",
			func() float64 { return float64(rep.Applied()) }),
	}
}

// replicationHealth is the replication part of GET /healthz.
type replicationHealth struct {
	Following    bool   `json:"following"`
	AppliedSeq   uint64 `json:"applied_seq"`
	LagMessages  uint64 `json:"lag_messages"`
	AppliedTotal uint64 `json:"applied_total"`
	Error        string `json:"error,omitempty"`
}

// replicationHealth returns the replication's health, nil without a
// Replica.
func (s *Server) replicationHealth() *replicationHealth {
	rep := s.cfg.Replica
	if rep == nil {
		return nil
	}
	h := &replicationHealth{Following: true, AppliedSeq: rep.Applied(), LagMessages: rep.Lag(), AppliedTotal: rep.AppliedTotal()}
	if err := rep.Health(); err != nil {
		h.Following, h.Error = false, err.Error()
	}
	return h
}

// publishReply is the data of a mutation a replica published.
type publishReply struct {
	StreamSeq uint64 `json:"stream_seq"`
	Messages  int    `json:"messages"`
	Ops       int    `json:"ops"`
}

// publish answers a mutation of a replica: ops published to the stream,
// with the stream sequence to ask for in X-Procq-Min-Seq.
func (s *Server) publish(w http.ResponseWriter, r *http.Request, endpoint string, ops []store.Op) {
	start := time.Now()
	seq, n, err := s.cfg.Replica.Publish(r.Context(), ops)
	s.data.duration.WithLabelValues(endpoint).Observe(time.Since(start).Seconds())
	if err != nil {
		s.log.Warn("mutation not published", "endpoint", endpoint, "ops", len(ops), "err", err)
		s.adminFail(w, endpoint, "error", http.StatusServiceUnavailable, api.CodeUnavailable,
			"not published: the NATS JetStream change stream did not acknowledge the batch (see the server log); nothing of it is applied unless an earlier message of it was acknowledged")
		return
	}
	s.data.mutations.WithLabelValues(endpoint, "ok").Inc()
	s.log.Info("mutation published", "endpoint", endpoint, "ops", len(ops), "stream_seq", seq, "messages", n,
		seconds("duration", time.Since(start)))
	gsekit.WriteData(w, publishReply{seq, n, len(ops)})
}
