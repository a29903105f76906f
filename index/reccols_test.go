package index

import (
	"bytes"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/procq/procq/internal/synth"
	"github.com/procq/procq/record"
)

// edgeRecords returns records with edge values: empty strings, no service
// template, nil and empty lists, extreme integers, expressions that are and
// are not derived, items whose bk_process_id is not their record's.
func edgeRecords() []*record.Record {
	full := func(pid int64) *record.Record {
		r := &record.Record{
			ID: pid, BizID: 2, CloudID: 0, SetID: 3, ModuleID: 4, ServiceInstanceID: 5, ProcessID: pid,
			ProcessTemplateID: 6, ProcessStatus: 1, ServiceTemplateID: 7, HasServiceTemplate: true, IsAuto: true,
			InnerIP: "10.0.0.1", InnerIPv6: "::1", AgentID: "agent", CloudName: "default", SetEnv: "3",
			SetName: "set", ModuleName: "mod", ServiceName: "svc", ProcessName: "proc",
			ConfigTemplates: []record.ConfigTemplate{{ConfigTemplateID: 1, TemplateName: "t", FileName: "f"}},
			ProcInstInfos:   []record.ProcInstInfo{{ProcessID: pid, LocalInstID: 1, InstID: 2, ProcessStatus: 1, IsAuto: true}},
		}
		r.Expression = r.DerivedExpression()
		return r
	}
	var recs []*record.Record
	add := func(pid int64, change func(r *record.Record)) {
		r := full(pid)
		change(r)
		recs = append(recs, r)
	}
	add(1, func(*record.Record) {})
	add(2, func(r *record.Record) {
		*r = record.Record{ID: 0, BizID: 2, ProcessID: 2} // every string empty, lists nil
	})
	add(3, func(r *record.Record) {
		r.ConfigTemplates, r.ProcInstInfos = []record.ConfigTemplate{}, []record.ProcInstInfo{}
		r.HasServiceTemplate, r.ServiceTemplateID = false, 0
	})
	add(4, func(r *record.Record) { r.HasServiceTemplate, r.ServiceTemplateID = true, 0 })
	add(5, func(r *record.Record) { r.Expression = "custom.expr" })
	add(6, func(r *record.Record) { r.Expression = "" })
	add(7, func(r *record.Record) {
		r.ID, r.ProcessTemplateID, r.ServiceTemplateID = math.MinInt64, math.MaxInt64, math.MinInt64
		r.CloudID, r.SetID, r.ModuleID, r.ServiceInstanceID = math.MaxInt64, math.MinInt64, -1, math.MaxInt64
		r.ProcessStatus = math.MinInt64
		r.ProcInstInfos = append(r.ProcInstInfos, record.ProcInstInfo{ProcessID: math.MaxInt64, LocalInstID: math.MinInt64, InstID: math.MaxInt64, ProcessStatus: -3})
		r.ConfigTemplates = append(r.ConfigTemplates, record.ConfigTemplate{ConfigTemplateID: math.MinInt64, FileName: "名字"})
	})
	add(math.MaxInt64, func(r *record.Record) { r.BizID = math.MaxInt64; r.Expression = r.DerivedExpression() })
	add(9, func(r *record.Record) {
		r.BizID = math.MinInt64
		r.SetName = "a.b"
		r.Expression = "a.b.mod.svc.proc.9"
	})
	return recs
}

// checkRecords fails unless ix.Record(row) equals want[row], field by field
// and as JSON, for every row.
func checkRecords(t *testing.T, ix *Index, want []*record.Record) {
	t.Helper()
	if ix.Len() != len(want) {
		t.Fatalf("Len() = %d, want %d", ix.Len(), len(want))
	}
	for row, w := range want {
		got := ix.Record(uint32(row))
		if !reflect.DeepEqual(got, w) {
			t.Fatalf("row %d:\n got %+v\nwant %+v", row, got, w)
		}
		if g, w := got.AppendJSON(nil, 0), w.AppendJSON(nil, 0); !bytes.Equal(g, w) {
			t.Fatalf("row %d JSON:\n got %s\nwant %s", row, g, w)
		}
		var sc record.Record
		ix.RecordScalars(uint32(row), &sc)
		ws := *w
		ws.Expression, ws.ConfigTemplates, ws.ProcInstInfos = "", nil, nil
		if !reflect.DeepEqual(sc, ws) {
			t.Fatalf("RecordScalars: row %d:\n got %+v\nwant %+v", row, sc, ws)
		}
		if pid := ix.ProcessID(uint32(row)); pid != w.ProcessID {
			t.Fatalf("row %d: ProcessID() = %d, want %d", row, pid, w.ProcessID)
		}
	}
	// A batch in another order: records that share memory stay apart.
	rows := make([]uint32, len(want))
	for i := range rows {
		rows[i] = uint32(len(want) - 1 - i)
	}
	for i, got := range ix.Records(rows) {
		if w := want[rows[i]]; !reflect.DeepEqual(got, w) {
			t.Fatalf("Records: row %d:\n got %+v\nwant %+v", rows[i], got, w)
		}
	}
}

// clones returns deep copies of recs, so that what Build is given cannot
// change what the test expects.
func clones(recs []*record.Record) []*record.Record {
	out := make([]*record.Record, len(recs))
	for i, r := range recs {
		c := *r
		c.ConfigTemplates = cloneNil(r.ConfigTemplates)
		c.ProcInstInfos = cloneNil(r.ProcInstInfos)
		out[i] = &c
	}
	return out
}

func cloneNil[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append(make([]T, 0, len(s)), s...)
}

// TestRecordFromColumns builds indexes of synth data sets and of edge
// records and reads every record back, before and after status updates.
func TestRecordFromColumns(t *testing.T) {
	tests := []struct {
		name string
		recs func() []*record.Record
	}{
		{"edges", edgeRecords},
		{"one", func() []*record.Record { return edgeRecords()[:1] }},
	}
	for seed := range int64(4) {
		tests = append(tests, struct {
			name string
			recs func() []*record.Record
		}{"synth", func() []*record.Record {
			recs, err := synth.Collect(synth.Options{Processes: 500 + int(seed)*1700, Seed: seed + 1})
			if err != nil {
				t.Fatal(err)
			}
			return recs
		}})
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs := tc.recs()
			ix := Build(recs) // sorts recs into row order
			want := clones(recs)
			checkRecords(t, ix, want)

			rnd := rand.New(rand.NewPCG(uint64(i), 7))
			var ups []record.StatusUpdate
			for range 1 + len(want)/3 {
				w := want[rnd.IntN(len(want))]
				u := record.StatusUpdate{ProcessID: w.ProcessID, ProcessStatus: rnd.Int64N(5) - 1, IsAuto: rnd.IntN(2) == 0}
				if rnd.IntN(2) == 0 {
					u.SetProcInstInfos = true
					if rnd.IntN(3) > 0 {
						u.ProcInstInfos = []record.ProcInstInfo{{ProcessID: w.ProcessID, LocalInstID: rnd.Int64N(3), InstID: rnd.Int64(), IsAuto: u.IsAuto}}
					}
				}
				ups = append(ups, u)
			}
			nx, missing := ix.WithStatus(ups)
			if len(missing) != 0 {
				t.Fatalf("missing %v", missing)
			}
			after := clones(want)
			for _, u := range ups {
				k := slices.IndexFunc(after, func(r *record.Record) bool { return r.ProcessID == u.ProcessID })
				after[k].ProcessStatus, after[k].IsAuto = u.ProcessStatus, u.IsAuto
				if u.SetProcInstInfos {
					after[k].ProcInstInfos = u.ProcInstInfos
				}
			}
			checkRecords(t, nx, after)
			checkRecords(t, ix, want) // the old index is unchanged
		})
	}
}
