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

// rowJSONCase is a data set the row writers are checked on.
type rowJSONCase struct {
	name string
	recs func() []*record.Record
}

// rowJSONCases returns the data sets the row writers are checked on: the
// fixture, edge records, odd strings and synth data sets.
func rowJSONCases(t *testing.T) []rowJSONCase {
	tests := []rowJSONCase{
		{"fixture", func() []*record.Record { return fixtureRecords(t) }},
		{"edges", edgeRecords},
		{"odd strings", func() []*record.Record { return oddRecords(rand.New(rand.NewPCG(3, 4)), 300) }},
	}
	for seed := range int64(3) {
		tests = append(tests, rowJSONCase{"synth", func() []*record.Record {
			recs, err := synth.Collect(synth.Options{Processes: 600 + int(seed)*900, Seed: seed + 11})
			if err != nil {
				t.Fatal(err)
			}
			return recs
		}})
	}
	return tests
}

// checkEachCase runs check on an index of each of rowJSONCases, then on
// it after each of two status batches; salt seeds the randomness.
func checkEachCase(t *testing.T, salt uint64, check func(*testing.T, *Index, *rand.Rand)) {
	for i, tc := range rowJSONCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(uint64(i), salt))
			ix := Build(tc.recs())
			check(t, ix, rnd)
			for range 2 {
				ix, _ = ix.WithStatus(statusBatch(ix, rnd))
				check(t, ix, rnd)
			}
		})
	}
}

// TestAppendRowJSON checks the column writer against record.AppendJSON of
// the materialized record, for every row of the fixture, of edge records
// and of synth data sets, with every projection, before and after two
// status batches.
func TestAppendRowJSON(t *testing.T) { checkEachCase(t, 11, checkRowJSON) }

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

// TestVerbatimDictionaries checks that a dictionary is found to need no
// escaping exactly when every one of its strings needs none, for both
// kinds of dictionary: term dictionaries (StrTerms, answered by their
// alphabet when it is plain ASCII) and packed columns (dict, tested as
// one string cut at its ends), including strings that are invalid UTF-8
// alone but valid once packed together.
func TestVerbatimDictionaries(t *testing.T) {
	tests := []struct {
		name  string
		terms []string
		want  bool
	}{
		{"empty", nil, true},
		{"empty strings", []string{"", ""}, true},
		{"ascii", []string{"10.0.0.1", "gse_agent", "default area"}, true},
		{"cjk and symbols", []string{"大区116", "<script>&amp;", "\u2028\u2029", "😀", "\ufffd"}, true},
		{"quote", []string{"a", `b"c`}, false},
		{"backslash", []string{`a\b`}, false},
		{"control", []string{"ok", "a\x1fb"}, false},
		{"del is plain", []string{"a\x7f"}, true},
		{"invalid", []string{"ok", "\xff"}, false},
		{"surrogate", []string{"\xed\xa0\x80"}, false},
		{"rune split across strings", []string{"\xe4\xb8", "\xad"}, false},
		{"truncated rune last", []string{"名", "\xe5\x90"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := dictBuilder{}
			for _, s := range tc.terms {
				db.add(s)
			}
			d := db.finish()
			if got := d.verbatim(); got != tc.want {
				t.Errorf("dict: verbatim %v, want %v", got, tc.want)
			}
			terms := buildStrTerms(len(tc.terms), func(i int) string { return tc.terms[i] }, false)
			if got := terms.verbatim(); got != tc.want {
				t.Errorf("StrTerms: verbatim %v, want %v", got, tc.want)
			}
		})
	}
}

// TestVerbatimDictionariesProperty builds dictionaries of random odd
// strings and checks verbatim against record.Verbatim of every string.
func TestVerbatimDictionariesProperty(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	plain := []string{"a", "名字", "😀", "\xe4\xb8", "\xad", "<&>", "\u2028", "."}
	for range 3000 {
		terms := make([]string, rnd.IntN(4))
		for i := range terms {
			for range rnd.IntN(4) {
				if rnd.IntN(8) == 0 {
					terms[i] += oddString(rnd)
				} else {
					terms[i] += plain[rnd.IntN(len(plain))]
				}
			}
		}
		want := true
		db := dictBuilder{}
		for _, s := range terms {
			want = want && record.Verbatim(s)
			db.add(s)
		}
		d := db.finish()
		st := buildStrTerms(len(terms), func(i int) string { return terms[i] }, false)
		if got1, got2 := d.verbatim(), st.verbatim(); got1 != want || got2 != want {
			t.Fatalf("%q: dict %v, StrTerms %v, want %v", terms, got1, got2, want)
		}
	}
}

// TestVerbatimAfterLoad checks that an index read from its image knows
// what the built one knew about its dictionaries, for data that needs no
// escaping and for odd strings that do.
func TestVerbatimAfterLoad(t *testing.T) {
	recs, err := synth.Collect(synth.Options{Processes: 500, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		recs []*record.Record
	}{{"synth", recs}, {"odd", oddRecords(rand.New(rand.NewPCG(7, 8)), 200)}} {
		ix := Build(tc.recs)
		back, err := ReadImage(imageOf(t, ix))
		if err != nil {
			t.Fatal(err)
		}
		<-back.verbatim.done
		if got, want := back.verbatim.get(), ix.verbatim.get(); got != want {
			t.Errorf("%s: loaded %+v, built %+v", tc.name, got, want)
		}
		if v := ix.verbatim.get(); tc.name == "synth" && (v.fields&derivedNames != derivedNames || !v.configs || v.fields == 0) {
			t.Errorf("synth data needs no escaping, found %+v", v)
		}
	}
}
