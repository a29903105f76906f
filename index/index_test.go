package index

import (
	"cmp"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/procq/procq/internal/synth"
	"github.com/procq/procq/record"
)

func TestCompareIP(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"10.0.0.2", "10.0.0.10", -1},
		{"9.255.255.255", "10.0.0.0", -1},
		{"10.0.0.1", "10.0.0.1", 0},
		{"255.255.255.255", "abc", -1},
		{"10.0.0.01", "10.0.0.1", 1}, // leading zero: text, after addresses
		{"300.1.1.1", "1.1.1.1", 1},
		{"1.2.3", "1.2.3.4", 1},
		{"1.2.3.4.5", "1.2.3.4", 1},
		{"abc", "", -1},
		{"", "abc", 1},
		{"", "", 0},
		{"", "1.1.1.1", 1},
		{"abc", "abd", -1},
		{"0.0.0.0", "0.0.0.1", -1},
	}
	for _, tc := range tests {
		if got := CompareIP(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareIP(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := CompareIP(tc.b, tc.a); got != -tc.want {
			t.Errorf("CompareIP(%q, %q) = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
}

func testRecords() []*record.Record {
	var recs []*record.Record
	names := []string{"nginx", "gse_agent", "mysql", "进程A"}
	ips := []string{"10.0.0.10", "10.0.0.9", "", "abc"}
	for i := range 40 {
		recs = append(recs, &record.Record{
			ID:          int64(i % 7),
			BizID:       int64(i%3 + 1),
			SetEnv:      []string{"1", "3"}[i%2],
			SetID:       int64(i % 5),
			ModuleID:    int64(i % 4 * 10),
			ProcessID:   int64(1000 - i*13),
			ProcessName: names[i%len(names)],
			ServiceName: ips[i%len(ips)] + "_" + names[i%len(names)],
			InnerIP:     ips[i%len(ips)],
		})
	}
	return recs
}

func TestBuildInvertedIndexes(t *testing.T) {
	recs := testRecords()
	ix := Build(slices.Clone(recs))
	if ix.Len() != len(recs) {
		t.Fatalf("Len = %d", ix.Len())
	}
	tests := []struct {
		name  string
		rows  []uint32
		match func(*record.Record) bool
	}{
		{"set 2", ix.SetID.Get(2).ToArray(), func(r *record.Record) bool { return r.SetID == 2 }},
		{"modules 0,30", ix.ModuleID.Union([]int64{0, 30}).ToArray(), func(r *record.Record) bool { return r.ModuleID == 0 || r.ModuleID == 30 }},
		{"name nginx", ix.ProcessName.Get("nginx").ToArray(), func(r *record.Record) bool { return r.ProcessName == "nginx" }},
		{"empty ip", ix.InnerIP.Get("").ToArray(), func(r *record.Record) bool { return r.InnerIP == "" }},
		{"env 3", ix.Env.Get("3").ToArray(), func(r *record.Record) bool { return r.SetEnv == "3" }},
		{"biz 2", ix.BizRows(2).ToArray(), func(r *record.Record) bool { return r.BizID == 2 }},
		{"pids 700..900", ix.ProcessesIn(700, 900).ToArray(), func(r *record.Record) bool { return r.ProcessID >= 700 && r.ProcessID <= 900 }},
	}
	for _, tc := range tests {
		var want []uint32
		for row, r := range allRecords(ix) {
			if tc.match(r) {
				want = append(want, uint32(row))
			}
		}
		if !slices.Equal(tc.rows, want) {
			t.Errorf("%s: rows %v, want %v", tc.name, tc.rows, want)
		}
	}
	if ix.SetID.Get(99) != nil || ix.ProcessName.Get("none") != nil {
		t.Error("absent values should have no rows")
	}
	for _, r := range recs {
		row, ok := ix.RowOfProcess(r.ProcessID)
		if !ok || !reflect.DeepEqual(ix.Record(row), r) {
			t.Fatalf("RowOfProcess(%d) = %d, %v", r.ProcessID, row, ok)
		}
	}
	if _, ok := ix.RowOfProcess(5); ok {
		t.Error("RowOfProcess found an absent id")
	}
}

func TestDictionaryRanges(t *testing.T) {
	ix := Build(testRecords())
	d := ix.ServiceName
	lo, hi := d.PrefixRange("10.0.0.1")
	for id := range uint32(d.Len()) {
		in := id >= lo && id < hi
		if in != strings.HasPrefix(d.Term(id), "10.0.0.1") {
			t.Errorf("prefix range [%d,%d) wrong for %q", lo, hi, d.Term(id))
		}
	}
	got := map[string]bool{}
	for _, id := range d.SuffixTerms("_nginx") {
		got[d.Term(id)] = true
	}
	for id := range uint32(d.Len()) {
		if got[d.Term(id)] != strings.HasSuffix(d.Term(id), "_nginx") {
			t.Errorf("suffix terms wrong for %q", d.Term(id))
		}
	}
}

// TestOrders checks every presorted order against a plain sort.
func TestOrders(t *testing.T) {
	ix := Build(testRecords())
	value := map[Key]func(r *record.Record) int{
		KeyID:          func(r *record.Record) int { return int(r.ID) },
		KeySetID:       func(r *record.Record) int { return int(r.SetID) },
		KeyModuleID:    func(r *record.Record) int { return int(r.ModuleID) },
		KeyProcessID:   func(r *record.Record) int { return int(r.ProcessID) },
		KeyProcessName: nil,
		KeyInnerIP:     nil,
	}
	for k := range NumKeys {
		o := ix.Order(k)
		compare := func(a, b uint32) int {
			ra, rb := ix.Record(a), ix.Record(b)
			if c := cmp.Compare(ra.BizID, rb.BizID); c != 0 {
				return c
			}
			var c int
			switch k {
			case KeyProcessName:
				c = strings.Compare(ra.ProcessName, rb.ProcessName)
			case KeyInnerIP:
				c = CompareIP(ra.InnerIP, rb.InnerIP)
			default:
				c = cmp.Compare(value[k](ra), value[k](rb))
			}
			if c != 0 {
				return c
			}
			return cmp.Compare(ra.ProcessID, rb.ProcessID)
		}
		want := make([]uint32, ix.Len())
		for i := range want {
			want[i] = uint32(i)
		}
		slices.SortFunc(want, compare)
		if !slices.Equal(o.Perm, want) {
			t.Errorf("key %d: perm %v, want %v", k, o.Perm, want)
		}
		// Ranks compare like values, across businesses too.
		for a := range uint32(ix.Len()) {
			for b := range uint32(ix.Len()) {
				ra, rb := *ix.Record(a), *ix.Record(b)
				c := compare2(k, &ra, &rb, value)
				if got := cmp.Compare(o.Rank[a], o.Rank[b]); got != c {
					t.Fatalf("key %d: rank order %d, value order %d for rows %d, %d", k, got, c, a, b)
				}
			}
		}
	}
}

func compare2(k Key, a, b *record.Record, value map[Key]func(r *record.Record) int) int {
	switch k {
	case KeyProcessName:
		return strings.Compare(a.ProcessName, b.ProcessName)
	case KeyInnerIP:
		return CompareIP(a.InnerIP, b.InnerIP)
	}
	return cmp.Compare(value[k](a), value[k](b))
}

func TestRadixSort(t *testing.T) {
	tests := [][]int64{
		{},
		{5},
		{3, -1, 3, 0, -1 << 63, 1<<63 - 1, 7, 3},
		{1 << 40, 1 << 20, 1, 1 << 40, 1<<40 + 1, -(1 << 40)},
	}
	for _, vals := range tests {
		pairs := make([]intPair, len(vals))
		for i, v := range vals {
			pairs[i] = intPair{v, uint32(i)}
		}
		want := slices.Clone(pairs)
		slices.SortStableFunc(want, func(a, b intPair) int { return cmp.Compare(a.v, b.v) })
		if got := radixSort(pairs); !slices.Equal(got, want) {
			t.Errorf("radixSort(%v) = %v, want %v", vals, got, want)
		}
	}
}

func TestWithStatus(t *testing.T) {
	ix := Build(testRecords())
	before := make([]record.Record, ix.Len())
	for i, r := range allRecords(ix) {
		before[i] = *r
	}
	pid := ix.Record(3).ProcessID
	infos := []record.ProcInstInfo{{ProcessID: pid, LocalInstID: 1, InstID: 9, ProcessStatus: 2}}
	nx, missing := ix.WithStatus([]record.StatusUpdate{
		{ProcessID: pid, ProcessStatus: 2, IsAuto: true, ProcInstInfos: infos, SetProcInstInfos: true},
		{ProcessID: 424242, ProcessStatus: 1},
		{ProcessID: ix.Record(5).ProcessID, ProcessStatus: 7}, // a value never seen before
	})
	if !slices.Equal(missing, []int64{424242}) {
		t.Errorf("missing = %v", missing)
	}
	for i, r := range allRecords(ix) {
		if !reflect.DeepEqual(*r, before[i]) {
			t.Fatalf("row %d of the old index changed", i)
		}
	}
	if nx.Status.Get(7) == nil || !nx.Status.Get(7).Contains(5) || ix.Status.Get(7) != nil {
		t.Error("new status value not indexed in the new index only")
	}
	if r := nx.Record(3); r.ProcessStatus != 2 || !r.IsAuto || !reflect.DeepEqual(r.ProcInstInfos, infos) {
		t.Errorf("updated record %+v", r)
	}
	for _, tc := range []struct {
		name string
		t    *IntTerms
		val  func(*record.Record) int64
	}{
		{"status", nx.Status, func(r *record.Record) int64 { return r.ProcessStatus }},
		{"is_auto", nx.IsAuto, func(r *record.Record) int64 { return boolTerm(r.IsAuto) }},
	} {
		for row, r := range allRecords(nx) {
			if b := tc.t.Get(tc.val(r)); b == nil || !b.Contains(uint32(row)) {
				t.Errorf("%s: row %d not indexed under its value", tc.name, row)
			}
		}
		total := uint64(0)
		for _, v := range tc.t.values {
			total += tc.t.Get(v).GetCardinality()
		}
		if total != uint64(nx.Len()) {
			t.Errorf("%s: %d rows indexed, want %d", tc.name, total, nx.Len())
		}
	}
	if ix.Status.Get(0) != nil && ix.Status.Get(0).Contains(3) != (before[3].ProcessStatus == 0) {
		t.Error("old status index changed")
	}
}

func TestMayContain(t *testing.T) {
	ix := Build(testRecords())
	for _, tc := range []struct {
		sub  string
		want bool
	}{{"10.0", true}, {"", true}, {"abc", true}, {"云", false}, {"10.0.0.x", false}} {
		if got := ix.InnerIP.MayContain(tc.sub); got != tc.want {
			t.Errorf("MayContain(%q) = %v, want %v", tc.sub, got, tc.want)
		}
	}
}

func TestUnion(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 2, 3, 10} {
		for _, size := range []int{10, 5000, 40000} {
			bms := make([]*roaring.Bitmap, n)
			for i := range bms {
				bms[i] = roaring.New()
				for range size / (i + 1) {
					x := rng.Uint32N(1 << 20)
					bms[i].AddRange(uint64(x), uint64(x)+uint64(rng.IntN(4))+1)
				}
				if i%2 == 1 {
					// Dense single rows: bitmap containers, which
					// Union copies whole.
					for range 8 * size {
						bms[i].Add(rng.Uint32N(1 << 20))
					}
				}
				bms[i].RunOptimize()
			}
			rng.Shuffle(len(bms), func(i, j int) { bms[i], bms[j] = bms[j], bms[i] })
			want := roaring.New()
			for _, b := range bms {
				want.Or(b)
			}
			if got := Union(bms...); !got.Equals(want) {
				t.Errorf("Union of %d bitmaps of ~%d rows: %d rows, want %d", n, size, got.GetCardinality(), want.GetCardinality())
			}
		}
	}
}

// BenchmarkUnion compares Union with roaring's FastOr on the rows of three
// process names of a synth data set (PROCQ_BENCH_PROCESSES processes,
// default 100000), bitmaps mixing run, array and bitmap containers:
// PROCQ_BENCH_PROCESSES=1000000 go test ./index -run '^$' -bench Union
func BenchmarkUnion(b *testing.B) {
	n := synth.BenchProcesses()
	recs, err := synth.Collect(synth.Options{Processes: n, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	ix := Build(recs)
	var bms []*roaring.Bitmap
	for _, name := range []string{"nginx", "nginx-1", "nginx-2"} {
		if bm := ix.ProcessName.Get(name); bm != nil {
			bms = append(bms, bm)
		}
	}
	if len(bms) < 2 {
		b.Fatalf("only %d of the process names occur", len(bms))
	}
	b.Run("Union", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Union(bms...)
		}
	})
	b.Run("FastOr", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			roaring.FastOr(bms...)
		}
	})
}

// allRecords returns the current record of every row, in row order.
func allRecords(ix *Index) []*record.Record {
	recs := make([]*record.Record, ix.Len())
	for row := range recs {
		recs[row] = ix.Record(uint32(row))
	}
	return recs
}
