package index

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/procq/procq/internal/synth"
	"github.com/procq/procq/record"
)

// fixtureRecords returns the conformance fixture's records.
func fixtureRecords(t testing.TB) []*record.Record {
	t.Helper()
	f, err := os.Open("../testdata/records.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []*record.Record
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		r := new(record.Record)
		if err := r.UnmarshalJSON(sc.Bytes()); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return recs
}

// projections returns the field sets a row is written with: every field
// (as 0 and as AllFields), each field alone, each field left out, and
// random subsets.
func projections(rnd *rand.Rand) []record.FieldSet {
	sets := []record.FieldSet{0, record.AllFields}
	for f := record.FieldID; f <= record.FieldProcInstInfos; f++ {
		sets = append(sets, record.FieldSet(0).With(f), record.AllFields&^record.FieldSet(0).With(f))
	}
	for range 16 {
		if s := record.FieldSet(rnd.Uint32()) & record.AllFields; s != 0 {
			sets = append(sets, s)
		}
	}
	return sets
}

// checkRowJSON fails unless AppendRowJSON writes every row of ix, with
// every projection, as record.AppendJSON writes the row's record.
func checkRowJSON(t *testing.T, ix *Index, rnd *rand.Rand) {
	t.Helper()
	sets := projections(rnd)
	var want, got []byte
	for row := range uint32(ix.Len()) {
		r := ix.Record(row)
		for _, s := range sets {
			want = r.AppendJSON(want[:0], s)
			got = ix.AppendRowJSON(append(got[:0], 'x'), row, s)
			if !bytes.Equal(got[1:], want) || got[0] != 'x' {
				t.Fatalf("row %d fields %b:\n got %s\nwant x%s", row, s, got, want)
			}
		}
	}
}

// statusBatch returns random status updates of the processes of ix,
// some replacing the proc_inst_infos list (with nil, one or two items).
func statusBatch(ix *Index, rnd *rand.Rand) []record.StatusUpdate {
	var ups []record.StatusUpdate
	for range 1 + ix.Len()/3 {
		pid := ix.ProcessID(uint32(rnd.IntN(ix.Len())))
		u := record.StatusUpdate{ProcessID: pid, ProcessStatus: rnd.Int64N(5) - 1, IsAuto: rnd.IntN(2) == 0}
		if rnd.IntN(2) == 0 {
			u.SetProcInstInfos = true
			for range rnd.IntN(3) {
				u.ProcInstInfos = append(u.ProcInstInfos, record.ProcInstInfo{ProcessID: pid + rnd.Int64N(2),
					LocalInstID: rnd.Int64N(3), InstID: rnd.Int64(), ProcessStatus: rnd.Int64N(3), IsAuto: rnd.IntN(2) == 0})
			}
		}
		ups = append(ups, u)
	}
	return ups
}

// TestAppendRowJSON checks the column writer against record.AppendJSON of
// the materialized record, for every row of the fixture, of edge records
// and of synth data sets, with every projection, before and after two
// status batches.
func TestAppendRowJSON(t *testing.T) {
	tests := []struct {
		name string
		recs func() []*record.Record
	}{
		{"fixture", func() []*record.Record { return fixtureRecords(t) }},
		{"edges", edgeRecords},
		{"odd strings", func() []*record.Record { return oddRecords(rand.New(rand.NewPCG(3, 4)), 300) }},
	}
	for seed := range int64(3) {
		tests = append(tests, struct {
			name string
			recs func() []*record.Record
		}{"synth", func() []*record.Record {
			recs, err := synth.Collect(synth.Options{Processes: 600 + int(seed)*900, Seed: seed + 11})
			if err != nil {
				t.Fatal(err)
			}
			return recs
		}})
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(uint64(i), 11))
			ix := Build(tc.recs())
			checkRowJSON(t, ix, rnd)
			for range 2 {
				ix, _ = ix.WithStatus(statusBatch(ix, rnd))
				checkRowJSON(t, ix, rnd)
			}
		})
	}
}

// oddPieces are fragments that JSON escaping must get right.
var oddPieces = []string{
	`"`, `\`, "\x00", "\x1f", "\n\r\t", "\x7f", "<script>&amp;</script>", "\u2028\u2029",
	"\xff", "\xe4\xb8", "\xed\xa0\x80", "名字", "😀", ".", "..", "", " ", "a.b",
}

// oddString returns up to four random odd pieces joined.
func oddString(rnd *rand.Rand) string {
	var b []byte
	for range rnd.IntN(5) {
		b = append(b, oddPieces[rnd.IntN(len(oddPieces))]...)
	}
	return string(b)
}

// oddRecords returns n records whose every string is odd; about half keep
// the derived expression, so the writer derives it from odd names.
func oddRecords(rnd *rand.Rand, n int) []*record.Record {
	recs := make([]*record.Record, n)
	for i := range recs {
		r := &record.Record{ID: int64(i), BizID: int64(i % 3), ProcessID: int64(i) + 1, SetID: int64(i % 7),
			ModuleID: int64(i % 11), CloudID: int64(i % 2), ServiceInstanceID: int64(i),
			InnerIP: oddString(rnd), InnerIPv6: oddString(rnd), AgentID: oddString(rnd), CloudName: oddString(rnd),
			SetEnv: oddString(rnd), SetName: oddString(rnd), ModuleName: oddString(rnd), ServiceName: oddString(rnd),
			ProcessName: oddString(rnd)}
		for range rnd.IntN(3) {
			r.ConfigTemplates = append(r.ConfigTemplates, record.ConfigTemplate{ConfigTemplateID: rnd.Int64N(9),
				TemplateName: oddString(rnd), FileName: oddString(rnd)})
		}
		if rnd.IntN(2) == 0 {
			r.Expression = r.DerivedExpression()
		} else {
			r.Expression = oddString(rnd)
		}
		recs[i] = r
	}
	return recs
}

// FuzzAppendRowJSON writes records holding fuzzed strings and checks the
// column writer against record.AppendJSON, and that the output is JSON.
func FuzzAppendRowJSON(f *testing.F) {
	for _, p := range oddPieces {
		f.Add(p, p+".x", true)
	}
	f.Fuzz(func(t *testing.T, a, b string, derived bool) {
		recs := oddRecords(rand.New(rand.NewPCG(uint64(len(a)), uint64(len(b)))), 3)
		for k, r := range recs {
			r.SetName, r.ProcessName, r.AgentID, r.CloudName = a, b, a+b, b
			r.ConfigTemplates = append(r.ConfigTemplates, record.ConfigTemplate{TemplateName: a, FileName: b})
			r.Expression = a
			if derived && k > 0 {
				r.Expression = r.DerivedExpression()
			}
		}
		ix := Build(recs)
		for row := range uint32(ix.Len()) {
			want := ix.Record(row).AppendJSON(nil, 0)
			got := ix.AppendRowJSON(nil, row, 0)
			if !bytes.Equal(got, want) {
				t.Fatalf("row %d:\n got %s\nwant %s", row, got, want)
			}
			if !json.Valid(got) {
				t.Fatalf("row %d: not JSON: %s", row, got)
			}
		}
	})
}

// TestAppendRowJSONAllocs checks that writing a row into a buffer with
// room allocates nothing, status batches or not.
func TestAppendRowJSONAllocs(t *testing.T) {
	recs, err := synth.Collect(synth.Options{Processes: 2000, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	ix := Build(recs)
	rnd := rand.New(rand.NewPCG(1, 2))
	nx, _ := ix.WithStatus(statusBatch(ix, rnd))
	buf := make([]byte, 0, 1<<16)
	for _, x := range []*Index{ix, nx} {
		row := uint32(0)
		allocs := testing.AllocsPerRun(200, func() {
			buf = x.AppendRowJSON(buf[:0], row, 0)
			row = (row + 7) % uint32(x.Len())
		})
		if allocs != 0 {
			t.Fatalf("AppendRowJSON: %v allocations a row, want 0", allocs)
		}
	}
}
