package engine

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"

	"github.com/procq/procq/api"
	"github.com/procq/procq/internal/synth"
	"github.com/procq/procq/record"
)

// materializedDo is Do as it was before pages were written from the
// columns: Query's records, each written by record.AppendJSON.
func materializedDo(t *testing.T, e *Engine, body []byte) []byte {
	t.Helper()
	q, err := api.ParseRequest(body)
	if err != nil {
		return api.AppendError(nil, err.(*api.Error))
	}
	res, err := e.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	b := api.AppendSuccess(nil, int(res.Count), res.Rows, res.Fields)
	if len(q.Facets) > 0 {
		b = api.AppendFacets(b, res.Facets)
	}
	if res.Next != "" {
		b = append(b[:len(b)-2], `,"next":`...)
		b = append(record.AppendString(b, res.Next), "}}"...)
	}
	return b
}

// TestDoWritesColumns checks that Do's envelope, whose base rows are
// written from the columns, is byte for byte the envelope of Query's
// records, for synth requests (with fields projections, cursors, facets)
// on the base, after a status batch, and with a delta of upserts and
// deletes.
func TestDoWritesColumns(t *testing.T) {
	opt := synth.Options{Processes: 3000, Seed: 3}
	recs, err := synth.Collect(opt)
	if err != nil {
		t.Fatal(err)
	}
	base, err := New(recs)
	if err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(5, 6))
	var ups []record.StatusUpdate
	for range 500 {
		r := recs[rnd.IntN(len(recs))]
		ups = append(ups, record.StatusUpdate{ProcessID: r.ProcessID, ProcessStatus: rnd.Int64N(3), IsAuto: rnd.IntN(2) == 0})
	}
	status, _ := base.WithStatus(ups)
	var upserts []*record.Record
	var deletes []int64
	for range 200 {
		c := *recs[rnd.IntN(len(recs))]
		c.ProcessStatus, c.ProcessName = 9, c.ProcessName+"-x"
		upserts = append(upserts, &c)
		deletes = append(deletes, recs[rnd.IntN(len(recs))].ProcessID)
	}
	delta, err := status.WithChanges(upserts, deletes)
	if err != nil {
		t.Fatal(err)
	}
	bodies, err := synth.Requests(opt, 300, 9)
	if err != nil {
		t.Fatal(err)
	}
	bodies = append(bodies,
		[]byte(`{"bk_biz_id":2,"scope":{"bk_set_env":"3"},"fields":["bk_process_name","proc_inst_infos","expression"],"page":1,"pagesize":40}`),
		[]byte(`{"bk_biz_id":2,"scope":{"bk_set_env":"3"},"after":"","pagesize":30,"ordering":"-bk_host_innerip"}`))
	for name, e := range map[string]*Engine{"base": base, "status": status, "delta": delta} {
		pages := 0
		for _, body := range bodies {
			got, _ := e.Do(context.Background(), body)
			want := materializedDo(t, e, body)
			if !bytes.Equal(got, want) {
				t.Fatalf("%s: %s:\n got %s\nwant %s", name, body, got, want)
			}
			if bytes.Contains(got, []byte(`"list":[{`)) {
				pages++
			}
		}
		if pages < len(bodies)/4 {
			t.Fatalf("%s: only %d of %d requests answered items", name, pages, len(bodies))
		}
	}
}
