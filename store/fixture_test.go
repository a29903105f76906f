package store

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/procq/procq/engine"
	"github.com/procq/procq/internal/synth"
	"github.com/procq/procq/record"
	"github.com/procq/procq/snapshot"
)

// baseOptions is the synthetic data set the tests start from.
var baseOptions = synth.Options{Processes: 400, Seed: 7}

// baseRecords returns the records of opt.
func baseRecords(t testing.TB, opt synth.Options) []*record.Record {
	t.Helper()
	recs, err := generate(opt)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func generate(opt synth.Options) ([]*record.Record, error) {
	var recs []*record.Record
	err := synth.Generate(opt, func(r *record.Record) error {
		recs = append(recs, r)
		return nil
	})
	return recs, err
}

// writeSnapshot writes recs as a snapshot file and returns its path.
func writeSnapshot(t testing.TB, dir string, recs []*record.Record) string {
	t.Helper()
	path := filepath.Join(dir, "base.snap")
	w, err := snapshot.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	return path
}

// initDir makes a data directory holding recs and returns its path.
func initDir(t testing.TB, recs []*record.Record) string {
	t.Helper()
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "data")
	from := ""
	if recs != nil {
		from = writeSnapshot(t, tmp, recs)
	}
	if err := Init(dir, from); err != nil {
		t.Fatal(err)
	}
	return dir
}

func mustOpen(t testing.TB, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// model is the plain map the store must agree with: bk_process_id to
// record.
type model map[int64]*record.Record

func newModel(recs []*record.Record) model {
	m := make(model, len(recs))
	for _, r := range recs {
		m[r.ProcessID] = r
	}
	return m
}

func (m model) clone() model {
	c := make(model, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// apply applies ops in order, the way Apply documents, and returns the
// ids Apply reports missing.
func (m model) apply(ops []Op) []int64 {
	var missing []int64
	for _, op := range ops {
		switch {
		case op.Upsert != nil:
			m[op.Upsert.ProcessID] = cloneRecord(op.Upsert)
		case op.Delete > 0:
			if _, ok := m[op.Delete]; !ok {
				missing = append(missing, op.Delete)
			}
			delete(m, op.Delete)
		default:
			u := op.Status
			r, ok := m[u.ProcessID]
			if !ok {
				missing = append(missing, u.ProcessID)
				continue
			}
			c := cloneRecord(r)
			c.ProcessStatus, c.IsAuto = u.ProcessStatus, u.IsAuto
			if u.SetProcInstInfos {
				c.ProcInstInfos = slices.Clone(u.ProcInstInfos)
			}
			m[u.ProcessID] = c
		}
	}
	return missing
}

// jsonLines returns the records of m as JSON Lines by ascending id.
func (m model) jsonLines() []byte {
	ids := make([]int64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var b []byte
	for _, id := range ids {
		b = append(m[id].AppendJSON(b, 0), '\n')
	}
	return b
}

func (m model) records() []*record.Record {
	recs := make([]*record.Record, 0, len(m))
	for _, r := range m {
		recs = append(recs, cloneRecord(r))
	}
	return recs
}

// engineLines returns the records of e as JSON Lines by ascending id.
func engineLines(e *engine.Engine) []byte {
	var b []byte
	e.Records(func(r *record.Record) bool {
		b = append(r.AppendJSON(b, 0), '\n')
		return true
	})
	return b
}

// sameRecords reports how e's records differ from m's, "" when they agree.
func sameRecords(e *engine.Engine, m model) string {
	got, want := engineLines(e), m.jsonLines()
	if bytes.Equal(got, want) {
		return ""
	}
	gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
	for i := range min(len(gl), len(wl)) {
		if !bytes.Equal(gl[i], wl[i]) {
			return fmt.Sprintf("%d vs %d records; first difference at line %d:\n got %s\nwant %s", len(gl)-1, len(wl)-1, i+1, gl[i], wl[i])
		}
	}
	return fmt.Sprintf("%d records, want %d", len(gl)-1, len(wl)-1)
}

// sameAnswers checks that e answers reqs exactly as an engine built afresh
// from m does.
func sameAnswers(t testing.TB, e *engine.Engine, m model, reqs [][]byte) {
	t.Helper()
	fresh, err := engine.New(m.records())
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range reqs {
		got, _ := e.Do(context.Background(), body)
		want, _ := fresh.Do(context.Background(), body)
		if !bytes.Equal(got, want) {
			t.Fatalf("request %s\n got %.400s\nwant %.400s", body, got, want)
		}
	}
}

// gen makes random batches over a pool of process ids: those of the base
// data set and some new ones.
type gen struct {
	base []*record.Record
	pool []int64
}

func newGen(base []*record.Record) *gen {
	g := &gen{base: base}
	for _, r := range base {
		g.pool = append(g.pool, r.ProcessID)
	}
	for i := range int64(300) {
		g.pool = append(g.pool, 9_000_000_000+i)
	}
	return g
}

var (
	setNames    = []string{"管控平台", "PaaS平台", "set-a", "set-b", "db"}
	moduleNames = []string{"gse", "nginx", "mysql", "模块", "api"}
)

func (g *gen) pid(rng *rand.Rand) int64 { return g.pool[rng.IntN(len(g.pool))] }

// record makes a record for pid from a random template.
func (g *gen) record(rng *rand.Rand, pid int64) *record.Record {
	r := cloneRecord(g.base[rng.IntN(len(g.base))])
	r.ProcessID = pid
	r.ID = rng.Int64N(1 << 40)
	r.SetName = setNames[rng.IntN(len(setNames))]
	r.ModuleName = moduleNames[rng.IntN(len(moduleNames))]
	r.SetID = int64(rng.IntN(20) + 1)
	r.ModuleID = r.SetID*100 + int64(rng.IntN(5))
	r.ProcessName = "p" + strconv.Itoa(rng.IntN(30))
	r.InnerIP = fmt.Sprintf("10.%d.%d.%d", rng.IntN(3), rng.IntN(256), rng.IntN(256))
	r.ProcessStatus = int64(rng.IntN(3))
	r.IsAuto = rng.IntN(2) == 0
	if rng.IntN(4) == 0 {
		r.Expression = r.DerivedExpression()
	}
	return r
}

func (g *gen) status(rng *rand.Rand, pid int64) *record.StatusUpdate {
	u := &record.StatusUpdate{ProcessID: pid, ProcessStatus: int64(rng.IntN(3)), IsAuto: rng.IntN(2) == 0}
	if rng.IntN(2) == 0 {
		u.SetProcInstInfos = true
		for i := range rng.IntN(3) {
			u.ProcInstInfos = append(u.ProcInstInfos, record.ProcInstInfo{
				ProcessID: pid, LocalInstID: int64(i + 1), InstID: rng.Int64N(1000), ProcessStatus: u.ProcessStatus, IsAuto: u.IsAuto})
		}
	}
	return u
}

// batch returns a random batch: status updates, upserts, deletes, or a
// mix of all three on a few processes.
func (g *gen) batch(rng *rand.Rand) []Op {
	var ops []Op
	switch rng.IntN(4) {
	case 0:
		for range 1 + rng.IntN(40) {
			ops = append(ops, Op{Status: g.status(rng, g.pid(rng))})
		}
	case 1:
		for range 1 + rng.IntN(8) {
			ops = append(ops, Op{Upsert: g.record(rng, g.pid(rng))})
		}
	case 2:
		for range 1 + rng.IntN(5) {
			ops = append(ops, Op{Delete: g.pid(rng)})
		}
	default:
		few := []int64{g.pid(rng), g.pid(rng), g.pid(rng)}
		for range 2 + rng.IntN(10) {
			pid := few[rng.IntN(len(few))]
			switch rng.IntN(3) {
			case 0:
				ops = append(ops, Op{Upsert: g.record(rng, pid)})
			case 1:
				ops = append(ops, Op{Delete: pid})
			default:
				ops = append(ops, Op{Status: g.status(rng, pid)})
			}
		}
	}
	return ops
}

// copyDir copies the regular files of src into a new directory.
func copyDir(t testing.TB, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "copy")
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	names, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if !n.Type().IsRegular() {
			continue
		}
		in, err := os.Open(filepath.Join(src, n.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(filepath.Join(dst, n.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, in); err != nil {
			t.Fatal(err)
		}
		in.Close()
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}
