package store

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/procq/procq/engine"
	"github.com/procq/procq/gsekit"
	"github.com/procq/procq/record"
)

// Requests whose answers tell the versions apart: business 1's running
// processes (a status writer raises their number by statusStep a batch,
// lowest ids first) and business 2's processes (a topology writer adds
// topoAdd and deletes topoDel a batch, highest ids last). Both list the
// highest bk_process_id first, so count and list must agree.
const (
	statusReq  = `{"bk_biz_id":1,"scope":{"bk_set_env":"0"},"process_status":1,"ordering":"-bk_process_id","fields":["bk_process_id"],"page":1,"pagesize":1}`
	topoReq    = `{"bk_biz_id":2,"scope":{"bk_set_env":"0"},"ordering":"-bk_process_id","fields":["bk_process_id"],"page":1,"pagesize":1}`
	statusStep = 10
	topoAdd    = 5
	topoDel    = 2
	topoBase   = 100000
)

type answer struct {
	count, first int64
}

func parseAnswer(b []byte) (answer, error) {
	var env struct {
		Result bool
		Data   struct {
			Count int64
			List  []struct {
				ID int64 `json:"bk_process_id"`
			}
		}
	}
	if err := json.Unmarshal(b, &env); err != nil || !env.Result {
		return answer{}, fmt.Errorf("bad answer %s (%v)", b, err)
	}
	a := answer{count: env.Data.Count}
	if len(env.Data.List) > 0 {
		a.first = env.Data.List[0].ID
	}
	return a, nil
}

// consistent reports whether a's count and list come from one version.
func consistentStatus(a answer) bool { return a.count%statusStep == 0 && a.first == a.count }

func consistentTopo(a answer) bool {
	k := a.count / (topoAdd - topoDel)
	if a.count == 0 {
		return a.first == 0
	}
	return a.count%(topoAdd-topoDel) == 0 && a.first == topoBase+topoAdd*k
}

type observation struct {
	status, topo   answer
	viaHTTP        bool
	statusV, topoV uint64
}

// TestConcurrentReadersSeeOneVersion runs a status writer, a topology
// writer and a checkpointer against readers querying all the while, some
// through the HTTP handler: every answer must be the one of the version
// that gave it, and no reader may see versions go backwards.
func TestConcurrentReadersSeeOneVersion(t *testing.T) { concurrentReaders(t, 0) }

// TestConcurrentReadersDuringMerges is the same with a merge threshold
// so low that background merges of the delta run all along.
func TestConcurrentReadersDuringMerges(t *testing.T) {
	if merges := concurrentReaders(t, 4); merges == 0 {
		t.Fatal("no merge ran")
	}
}

// concurrentReaders runs the test with merges of deltas of mergeAt
// (0: the default) and returns the number of merges published.
func concurrentReaders(t *testing.T, mergeAt int) uint64 {
	ctx := context.Background()
	var recs []*record.Record
	for pid := int64(1); pid <= 400; pid++ {
		recs = append(recs, &record.Record{ProcessID: pid, BizID: 1, SetEnv: "3", SetName: "s", ProcessName: "p"})
	}
	dir := initDir(t, recs)
	s := mustOpen(t, dir, Options{CheckpointBytes: 16 << 10})
	defer s.Close()
	s.merge.at = mergeAt

	const statusBatches, topoBatches, readers = 30, 15, 4
	type applied struct {
		version uint64
		status  bool
	}
	var (
		mu      sync.Mutex
		results []applied
		done    atomic.Bool
		writers sync.WaitGroup
		others  sync.WaitGroup
		errs    = make(chan error, 100)
		ck      = make(chan struct{}, 1)
	)
	note := func(res Result, err error, status bool) bool {
		if err != nil {
			errs <- err
			return false
		}
		mu.Lock()
		results = append(results, applied{res.Version, status})
		mu.Unlock()
		return true
	}
	writers.Add(2)
	go func() {
		defer writers.Done()
		for k := range int64(statusBatches) {
			ups := make([]record.StatusUpdate, statusStep)
			for i := range ups {
				ups[i] = record.StatusUpdate{ProcessID: k*statusStep + int64(i) + 1, ProcessStatus: 1}
			}
			if res, err := s.ApplyStatus(ctx, ups); !note(res, err, true) {
				return
			}
			if k%8 == 7 {
				select {
				case ck <- struct{}{}:
				default:
				}
			}
		}
	}()
	go func() {
		defer writers.Done()
		next, oldest := int64(topoBase+1), int64(topoBase+1)
		for range topoBatches {
			var ops []Op
			for range topoAdd {
				ops = append(ops, Op{Upsert: &record.Record{ProcessID: next, BizID: 2, SetEnv: "1", SetName: "t", ProcessName: "q"}})
				next++
			}
			for range topoDel {
				ops = append(ops, Op{Delete: oldest})
				oldest++
			}
			if res, err := s.Apply(ctx, ops); !note(res, err, false) {
				return
			}
		}
	}()
	// Checkpoints run while the writers write: every few status batches
	// asks for one (and the small CheckpointBytes starts more).
	others.Add(1)
	go func() {
		defer others.Done()
		for range ck {
			if _, err := s.Checkpoint(ctx); err != nil {
				errs <- err
				return
			}
		}
	}()

	obs := make([][]observation, readers)
	for i := range readers {
		others.Add(1)
		go func() {
			defer others.Done()
			var h http.Handler
			var seen *engine.Engine
			if i == 0 {
				h = gsekit.NewHandler(s.Live().Load, gsekit.HandlerOptions{
					Observe: func(_ *http.Request, o *gsekit.Outcome) { seen = o.Engine },
				})
			}
			ask := func(body string) (answer, uint64, error) {
				if h == nil {
					e := s.Engine()
					b, err := e.Do(ctx, []byte(body))
					if err != nil {
						return answer{}, 0, err
					}
					a, err := parseAnswer(b)
					return a, e.Version(), err
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, gsekit.Path, strings.NewReader(body)))
				a, err := parseAnswer(rec.Body.Bytes())
				return a, seen.Version(), err
			}
			for last := false; !last; {
				last = done.Load()
				var o observation
				var err error
				if o.status, o.statusV, err = ask(statusReq); err == nil {
					o.topo, o.topoV, err = ask(topoReq)
				}
				if err != nil {
					errs <- err
					return
				}
				o.viaHTTP = h != nil
				obs[i] = append(obs[i], o)
			}
		}()
	}
	writers.Wait()
	s.waitMerge()
	close(ck)
	done.Store(true)
	others.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	// The answer each version must give.
	count := func(v uint64, status bool) int64 {
		var n int64
		for _, r := range results {
			if r.version <= v && r.status == status {
				n++
			}
		}
		return n
	}
	total := 0
	for i, list := range obs {
		var prev uint64
		for _, o := range list {
			total++
			if !consistentStatus(o.status) || !consistentTopo(o.topo) {
				t.Fatalf("reader %d: answers disagree with themselves: %+v", i, o)
			}
			if want := statusStep * count(o.statusV, true); o.status.count != want {
				t.Fatalf("reader %d: version %d answered %d running processes, want %d", i, o.statusV, o.status.count, want)
			}
			if want := (topoAdd - topoDel) * count(o.topoV, false); o.topo.count != want {
				t.Fatalf("reader %d: version %d answered %d business-2 processes, want %d", i, o.topoV, o.topo.count, want)
			}
			if o.statusV < prev || o.topoV < o.statusV {
				t.Fatalf("reader %d: versions went back: %d after %d, then %d", i, o.statusV, prev, o.topoV)
			}
			prev = o.topoV
		}
	}
	final := s.Engine().Version()
	if got := count(final, true); got != statusBatches {
		t.Fatalf("%d status batches recorded, want %d", got, statusBatches)
	}
	t.Logf("%d answers checked over %d versions, %d merges", total, final, s.MergeStats().Merges)
	return s.MergeStats().Merges
}
