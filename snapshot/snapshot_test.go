package snapshot

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unsafe"

	"github.com/procq/procq/record"
)

// normalize returns r as a snapshot reads it back: empty lists nil, no
// service template id without a service template.
func normalize(r record.Record) record.Record {
	if len(r.ConfigTemplates) == 0 {
		r.ConfigTemplates = nil
	}
	if len(r.ProcInstInfos) == 0 {
		r.ProcInstInfos = nil
	}
	if !r.HasServiceTemplate {
		r.ServiceTemplateID = 0
	}
	return r
}

// readAll reads the snapshot at path into a slice.
func readAll(t testing.TB, path string) (Header, []record.Record, error) {
	t.Helper()
	var got []record.Record
	h, err := Read(path, func(r *record.Record) error {
		got = append(got, *r)
		return nil
	})
	return h, got, err
}

// image returns the bytes of a snapshot of recs, made in memory (without
// the fsyncs of WriteAll; TestWriteAllMatchesImage checks they agree).
func image(t testing.TB, recs []record.Record) []byte {
	t.Helper()
	var data bytes.Buffer
	enc := newEncoder(&data)
	for i := range recs {
		if err := enc.encode(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	return rawImage(uint64(len(recs)), data.Bytes())
}

func TestWriteAllMatchesImage(t *testing.T) {
	recs := genRecords(500, 14)
	path := filepath.Join(t.TempDir(), "s.snap")
	if err := WriteAll(path, recs); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := image(t, recs)
	// Only the creation time and so the header checksum may differ.
	if len(got) != len(want) || !bytes.Equal(got[:24], want[:24]) ||
		!bytes.Equal(got[32:40], want[32:40]) || !bytes.Equal(got[headerSize:], want[headerSize:]) {
		t.Errorf("WriteAll wrote other bytes than the in-memory encoding")
	}
}

// rawImage wraps data in a valid header claiming count records, so tests
// can feed hand-made record bytes past the checksums.
func rawImage(count uint64, data []byte) []byte { return rawImageOf(Version, count, data) }

// rawImageOf returns data behind a valid header of version v and count.
func rawImageOf(v uint32, count uint64, data []byte) []byte {
	h := rawHeader{
		Header:  Header{Version: v, Count: count, Created: time.Unix(0, 1)},
		dataCRC: crc32.Checksum(data, castagnoli),
		dataLen: uint64(len(data)),
	}
	return append(h.marshal(), data...)
}

// decodeBytes decodes an in-memory image.
func decodeBytes(b []byte) ([]record.Record, error) {
	var got []record.Record
	_, err := Decode(bytes.NewReader(b), int64(len(b)), func(r *record.Record) error {
		got = append(got, *r)
		return nil
	})
	return got, err
}

func TestRoundTrip(t *testing.T) {
	long := strings.Repeat("长", 30000) // str32 encoding
	edge := record.Record{
		ID: math.MinInt64, BizID: math.MaxInt64, CloudID: -1, SetID: -33, ModuleID: 128,
		ServiceInstanceID: 1 << 40, ProcessID: 7, ProcessTemplateID: -129, ProcessStatus: 2,
		HasServiceTemplate: true, ServiceTemplateID: 0, IsAuto: true,
		Expression: "not.derived", InnerIP: "10.0.0.1", InnerIPv6: "::1", AgentID: "a",
		CloudName: "default area", SetEnv: "3", SetName: "管控平台", ModuleName: strings.Repeat("m", 300),
		ServiceName: long, ProcessName: "p",
		ConfigTemplates: []record.ConfigTemplate{{ConfigTemplateID: -5, TemplateName: "", FileName: "f"}},
		ProcInstInfos: []record.ProcInstInfo{
			{ProcessID: 7, LocalInstID: 1, InstID: 2, ProcessStatus: 1, IsAuto: true},
			{ProcessID: 8, LocalInstID: -1, InstID: math.MaxInt64, ProcessStatus: 0},
			{ProcessID: 0},
		},
	}
	longDerived := edge
	longDerived.SetName = strings.Repeat("s", 600) // derived, but too long to write as nil
	longDerived.Expression = longDerived.DerivedExpression()
	many := edge
	many.ConfigTemplates = nil
	for i := range 40 { // array16 list length
		many.ConfigTemplates = append(many.ConfigTemplates, record.ConfigTemplate{ConfigTemplateID: int64(i), TemplateName: "t", FileName: "f"})
	}
	noTemplate := edge
	noTemplate.HasServiceTemplate, noTemplate.ServiceTemplateID = false, 42 // read back as 0
	emptyLists := edge
	emptyLists.ConfigTemplates, emptyLists.ProcInstInfos = []record.ConfigTemplate{}, []record.ProcInstInfo{}

	tests := []struct {
		name string
		recs []record.Record
	}{
		{"no records", nil},
		{"minimal record", []record.Record{{ProcessID: 1}}},
		{"edge values", []record.Record{edge, edge, edge}},
		{"long derived expression", []record.Record{longDerived}},
		{"array16 list", []record.Record{many}},
		{"no service template", []record.Record{noTemplate}},
		{"empty lists", []record.Record{emptyLists}},
		{"conformance records", loadConformance(t)},
		{"generated", genRecords(1000, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s.snap")
			before := time.Now()
			if err := WriteAll(path, tt.recs); err != nil {
				t.Fatal(err)
			}
			after := time.Now()
			h, got, err := readAll(t, path)
			if err != nil {
				t.Fatal(err)
			}
			if h.Version != Version || h.Count != uint64(len(tt.recs)) ||
				h.Created.Before(before.Truncate(time.Nanosecond)) || h.Created.After(after) {
				t.Errorf("header = %+v, want version %d, count %d, created in [%v, %v]", h, Version, len(tt.recs), before, after)
			}
			if hh, err := ReadHeader(path); err != nil || !reflect.DeepEqual(hh, h) {
				t.Errorf("ReadHeader = %+v, %v; want %+v", hh, err, h)
			}
			if len(got) != len(tt.recs) {
				t.Fatalf("read %d records, wrote %d", len(got), len(tt.recs))
			}
			// Reads of every size: each value lands across a refill.
			img := image(t, tt.recs)
			for _, r := range []io.Reader{iotest.OneByteReader(bytes.NewReader(img)), iotest.HalfReader(bytes.NewReader(img)),
				iotest.DataErrReader(bytes.NewReader(img))} {
				var again []record.Record
				if _, err := Decode(r, int64(len(img)), func(r *record.Record) error {
					again = append(again, *r)
					return nil
				}); err != nil || !reflect.DeepEqual(again, got) {
					t.Fatalf("Decode through %T: %d records, %v; want the %d read from the file", r, len(again), err, len(got))
				}
			}
			for i := range got {
				if want := normalize(tt.recs[i]); !reflect.DeepEqual(got[i], want) {
					t.Fatalf("record %d:\n got %+v\nwant %+v", i, got[i], want)
				}
			}
		})
	}
}

func loadConformance(t *testing.T) []record.Record {
	t.Helper()
	f, err := os.Open("../testdata/records.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []record.Record
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r record.Record
		if err := r.UnmarshalJSON(sc.Bytes()); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil || len(recs) == 0 {
		t.Fatalf("read conformance records: %d, %v", len(recs), err)
	}
	return recs
}

// Repeated names share memory after reading; decoded lists do not
// overlap, so appending to one cannot change another.
func TestDecodedMemory(t *testing.T) {
	recs := genRecords(100, 2)
	got, err := decodeBytes(image(t, recs))
	if err != nil {
		t.Fatal(err)
	}
	a, b := got[0], got[1] // same set, host and service instance
	for _, pair := range [][2]string{{a.SetName, b.SetName}, {a.InnerIP, b.InnerIP}, {a.ServiceName, b.ServiceName}} {
		if pair[0] != pair[1] || unsafe.StringData(pair[0]) != unsafe.StringData(pair[1]) {
			t.Errorf("%q and %q do not share memory", pair[0], pair[1])
		}
	}
	for i := range got {
		if pi := got[i].ProcInstInfos; cap(pi) != len(pi) {
			t.Fatalf("record %d: proc_inst_infos len %d cap %d", i, len(pi), cap(pi))
		}
		if ct := got[i].ConfigTemplates; cap(ct) != len(ct) {
			t.Fatalf("record %d: config_templates len %d cap %d", i, len(ct), cap(ct))
		}
	}
}

// The smallest record takes minRecordSize bytes, which the count check
// relies on.
func TestMinRecordSize(t *testing.T) {
	r := record.Record{}
	r.Expression = r.DerivedExpression() // written as nil
	b := image(t, []record.Record{r})
	if got := len(b) - headerSize; got != minRecordSize {
		t.Errorf("minimal record takes %d bytes, want %d", got, minRecordSize)
	}
}

func TestTruncated(t *testing.T) {
	b := image(t, genRecords(20, 3))
	for n := range len(b) {
		// The file is short (size known) ...
		if _, err := decodeBytes(b[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d of %d bytes: err = %v, want ErrCorrupt", n, len(b), err)
		}
		// ... or shrank after its size was taken.
		_, err := Decode(bytes.NewReader(b[:n]), int64(len(b)), func(*record.Record) error { return nil })
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("stream cut at %d of %d bytes: err = %v, want ErrCorrupt", n, len(b), err)
		}
	}
	// Through the file API, the error names the file.
	path := filepath.Join(t.TempDir(), "short.snap")
	for _, n := range []int{0, 5, 20, headerSize, headerSize + 1, len(b) / 2, len(b) - 1} {
		if err := os.WriteFile(path, b[:n], 0o666); err != nil {
			t.Fatal(err)
		}
		if _, _, err := readAll(t, path); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
			t.Errorf("Read of %d bytes: err = %v, want ErrCorrupt naming %s", n, err, path)
		}
		if n < headerSize+1 {
			if _, err := ReadHeader(path); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
				t.Errorf("ReadHeader of %d bytes: err = %v, want ErrCorrupt naming %s", n, err, path)
			}
		}
	}
}

func TestExtended(t *testing.T) {
	b := image(t, genRecords(10, 4))
	if _, err := decodeBytes(append(b, 0)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("extra byte: err = %v, want ErrCorrupt", err)
	}
}

// A flipped bit in any byte of the file (a different bit in each) is an
// error of the right kind.
func TestFlippedBit(t *testing.T) {
	b := image(t, genRecords(30, 5))
	for i := range b {
		c := bytes.Clone(b)
		c[i] ^= 1 << (i % 8)
		_, err := decodeBytes(c)
		want := ErrCorrupt
		switch {
		case i < len(magic):
			want = ErrNotSnapshot
		case i < 12:
			want = ErrVersion
		}
		if !errors.Is(err, want) {
			t.Fatalf("bit %d of byte %d flipped: err = %v, want %v", i%8, i, err, want)
		}
	}
}

func TestNotSnapshot(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"records.jsonl": `{"id":1,"bk_process_id":1}` + "\n",
		"zip":           "PK\x03\x04" + strings.Repeat("\x00", 60),
		"short":         "x",
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o666); err != nil {
			t.Fatal(err)
		}
		if _, _, err := readAll(t, path); !errors.Is(err, ErrNotSnapshot) || !strings.Contains(err.Error(), path) {
			t.Errorf("Read %s: err = %v, want ErrNotSnapshot naming the file", name, err)
		}
		if _, err := ReadHeader(path); !errors.Is(err, ErrNotSnapshot) {
			t.Errorf("ReadHeader %s: err = %v, want ErrNotSnapshot", name, err)
		}
	}
}

func TestUnknownVersion(t *testing.T) {
	b := image(t, genRecords(3, 6))
	for _, v := range []uint32{0, 4, math.MaxUint32} { // 1, 2 and 3 are known
		c := bytes.Clone(b)
		binary.LittleEndian.PutUint32(c[8:], v)
		binary.LittleEndian.PutUint32(c[40:], crc32.Checksum(c[:40], castagnoli))
		path := filepath.Join(t.TempDir(), "v.snap")
		if err := os.WriteFile(path, c, 0o666); err != nil {
			t.Fatal(err)
		}
		if _, _, err := readAll(t, path); !errors.Is(err, ErrVersion) || !strings.Contains(err.Error(), path) {
			t.Errorf("version %d: Read err = %v, want ErrVersion naming the file", v, err)
		}
		if _, err := ReadHeader(path); !errors.Is(err, ErrVersion) {
			t.Errorf("version %d: ReadHeader err = %v, want ErrVersion", v, err)
		}
	}
}

func TestMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.snap")
	if _, _, err := readAll(t, path); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("Read: err = %v, want ErrNotExist naming %s", err, path)
	}
	if _, err := ReadHeader(path); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("ReadHeader: err = %v, want ErrNotExist naming %s", err, path)
	}
	if _, err := Create(filepath.Join(path, "sub.snap")); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("Create in a missing directory: err = %v, want ErrNotExist naming the path", err)
	}
}

// Hand-made data sections with valid checksums: the decoder's own checks
// catch them, without allocating what their length fields claim.
func TestHostileData(t *testing.T) {
	// base returns the fields of a valid record: bk_process_id 1, other
	// ints zero, false, empty strings, empty lists.
	base := func() [][]byte {
		f := make([][]byte, recordFields)
		for i := range f {
			switch {
			case i == 6:
				f[i] = []byte{0x01}
			case i == 10:
				f[i] = []byte{0xc2}
			case i >= 11 && i <= 20:
				f[i] = []byte{0xa0}
			case i >= 21:
				f[i] = []byte{0x90}
			default:
				f[i] = []byte{0x00}
			}
		}
		return f
	}
	rec := func(fields [][]byte) []byte { // an array16 record of the fields
		b := []byte{0xdc, 0, byte(len(fields))}
		for _, f := range fields {
			b = append(b, f...)
		}
		return b
	}
	with := func(i int, v []byte) []byte {
		f := base()
		f[i] = v
		return rec(f)
	}
	valid := rec(base())
	if got, err := decodeBytes(rawImage(1, valid)); err != nil || len(got) != 1 {
		t.Fatalf("hand-made valid record: %d records, %v", len(got), err)
	}
	// A 512-byte set name interned by one record, then used by a second
	// whose expression is derived: 517 bytes, more than a nil may stand for.
	longSet := with(17, append([]byte{0xda, 0x02, 0x00}, bytes.Repeat([]byte{'s'}, 512)...))
	derived := base()
	derived[11], derived[17] = []byte{0xc0}, []byte{0x00}
	tests := []struct {
		name  string
		count uint64
		data  []byte
	}{
		{"count beyond size", 1 << 60, valid},
		{"count one too many", 2, valid},
		{"no records but data", 0, valid},
		{"too few fields", 1, append(rec(base()[:recordFields-1]), 0)},
		{"too many fields", 1, rec(append(base(), []byte{0}))},
		{"map instead of array", 1, append([]byte{0xde, 0, recordFields}, valid[3:]...)},
		{"huge config_templates", 1, with(21, []byte{0xdd, 0x7f, 0xff, 0xff, 0xff})},
		{"huge proc_inst_infos", 1, with(22, []byte{0xdd, 0xff, 0xff, 0xff, 0xff})},
		{"list longer than data", 1, with(22, []byte{0x95})},
		{"nil list", 1, with(21, []byte{0xc0})},
		{"huge string", 1, with(11, []byte{0xdb, 0x7f, 0xff, 0xff, 0xff})},
		{"huge interned string", 1, with(12, []byte{0xdb, 0xff, 0xff, 0xff, 0xff})},
		{"intern index out of range", 1, with(12, []byte{0x00})},
		{"intern index uint32", 1, with(12, []byte{0xce, 0xff, 0xff, 0xff, 0xff})},
		{"negative intern index", 1, with(12, []byte{0xff})},
		{"string where int belongs", 1, with(0, []byte{0xa1, 'x'})},
		{"nil where int belongs", 1, with(0, []byte{0xc0})},
		{"int where bool belongs", 1, with(10, []byte{0x01})},
		{"bin where string belongs", 1, with(11, []byte{0xc4, 0x01, 'x'})},
		{"float where int belongs", 1, with(3, []byte{0xcb, 0, 0, 0, 0, 0, 0, 0, 0})},
		{"derived expression too long", 2, append(longSet, rec(derived)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeBytes(rawImage(tt.count, tt.data))
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v (%d records), want ErrCorrupt", err, len(got))
			}
		})
	}
}

func TestFnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.snap")
	if err := WriteAll(path, genRecords(10, 7)); err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	n := 0
	_, err := Read(path, func(*record.Record) error {
		if n++; n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || errors.Is(err, ErrCorrupt) || n != 3 {
		t.Errorf("err = %v after %d records, want the callback's error after 3", err, n)
	}
}

// listDir returns the names in dir.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestAbortKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.snap")
	old := genRecords(5, 8)
	if err := WriteAll(path, old); err != nil {
		t.Fatal(err)
	}
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range genRecords(50, 9) {
		if err := w.Append(&r); err != nil {
			t.Fatal(err)
		}
	}
	if len(listDir(t, dir)) != 2 {
		t.Errorf("while writing, dir holds %v, want the old file and a temporary one", listDir(t, dir))
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if names := listDir(t, dir); !reflect.DeepEqual(names, []string{"s.snap"}) {
		t.Errorf("after Abort, dir holds %v", names)
	}
	if _, got, err := readAll(t, path); err != nil || len(got) != len(old) {
		t.Errorf("after Abort: read %d records, %v; want the old %d", len(got), err, len(old))
	}
	if err := w.Append(&old[0]); err == nil {
		t.Error("Append after Abort succeeded")
	}
	if err := w.Commit(); err == nil {
		t.Error("Commit after Abort succeeded")
	}
	if err := w.Abort(); err != nil {
		t.Errorf("second Abort: %v", err)
	}
}

func TestCommitReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.snap")
	if err := WriteAll(path, genRecords(5, 10)); err != nil {
		t.Fatal(err)
	}
	next := genRecords(70, 11)
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	for i := range next {
		if err := w.Append(&next[i]); err != nil {
			t.Fatal(err)
		}
	}
	if h, err := ReadHeader(path); err != nil || h.Count != 5 {
		t.Errorf("before Commit: header %+v, %v; want the old 5 records", h, err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if names := listDir(t, dir); !reflect.DeepEqual(names, []string{"s.snap"}) {
		t.Errorf("after Commit, dir holds %v", names)
	}
	if _, got, err := readAll(t, path); err != nil || len(got) != len(next) {
		t.Errorf("after Commit: read %d records, %v; want %d", len(got), err, len(next))
	}
	if err := w.Commit(); err == nil {
		t.Error("second Commit succeeded")
	}
	if err := w.Abort(); err != nil {
		t.Errorf("Abort after Commit: %v", err)
	}
	if _, _, err := readAll(t, path); err != nil {
		t.Errorf("Abort after Commit broke the file: %v", err)
	}
}

// A Commit that cannot rename leaves no temporary file behind.
func TestFailedCommitCleansUp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.snap")
	if err := os.MkdirAll(filepath.Join(path, "occupied"), 0o777); err != nil {
		t.Fatal(err)
	}
	err := WriteAll(path, genRecords(3, 12))
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("WriteAll over a directory: err = %v, want an error naming %s", err, path)
	}
	if names := listDir(t, dir); !reflect.DeepEqual(names, []string{"s.snap"}) {
		t.Errorf("after failed Commit, dir holds %v", names)
	}
}

// A read error is reported as itself, not as corruption.
func TestReadError(t *testing.T) {
	img := image(t, genRecords(200, 15))
	boom := errors.New("boom")
	for _, n := range []int{0, 10, headerSize, headerSize + 1, len(img) / 2, len(img) - 1} {
		r := io.MultiReader(bytes.NewReader(img[:n]), iotest.ErrReader(boom))
		_, err := Decode(r, int64(len(img)), func(*record.Record) error { return nil })
		if !errors.Is(err, boom) || errors.Is(err, ErrCorrupt) {
			t.Errorf("read failing after %d bytes: err = %v, want boom", n, err)
		}
	}
	dir := t.TempDir()
	if _, _, err := readAll(t, dir); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("Read of a directory: err = %v, want an error naming it", err)
	}
}

// A write error makes Append and Commit fail and leaves no file behind.
func TestWriteErrorCleansUp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.snap")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w.f.Close() // every write from now on fails
	var appendErr error
	for _, r := range genRecords(20000, 16) { // more than the write buffer
		if appendErr = w.Append(&r); appendErr != nil {
			break
		}
	}
	if appendErr == nil || !strings.Contains(appendErr.Error(), path) {
		t.Errorf("Append: err = %v, want a write error naming %s", appendErr, path)
	}
	if err := w.Commit(); err == nil {
		t.Error("Commit after a write error succeeded")
	}
	if names := listDir(t, dir); len(names) != 0 {
		t.Errorf("after failed Commit, dir holds %v", names)
	}
}

// TestInvalidRecords checks that a snapshot holding a record that an
// import would refuse (record.Check) is refused on load, and that a
// Writer does not write one.
func TestInvalidRecords(t *testing.T) {
	ok := genRecords(3, 5)
	tests := []struct {
		name   string
		change func(r *record.Record)
	}{
		{"bk_process_id 0", func(r *record.Record) { r.ProcessID = 0 }},
		{"negative bk_process_id", func(r *record.Record) { r.ProcessID = -7 }},
		{"bk_set_env 4", func(r *record.Record) { r.SetEnv = "4" }},
		{"bk_set_env 03", func(r *record.Record) { r.SetEnv = "03" }},
		{"bk_set_env formal", func(r *record.Record) { r.SetEnv = "formal" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs := slices.Clone(ok)
			tc.change(&recs[1])
			path := filepath.Join(t.TempDir(), "s.snap")
			if err := os.WriteFile(path, image(t, recs), 0o666); err != nil {
				t.Fatal(err)
			}
			if _, got, err := readAll(t, path); !errors.Is(err, ErrCorrupt) || !errors.Is(err, record.ErrInvalid) {
				t.Errorf("Read: %d records, %v; want ErrCorrupt and record.ErrInvalid", len(got), err)
			}
			if err := WriteAll(filepath.Join(t.TempDir(), "w.snap"), recs); !errors.Is(err, record.ErrInvalid) {
				t.Errorf("WriteAll: %v, want record.ErrInvalid", err)
			}
		})
	}
	for _, env := range []string{"", "0", "1", "2", "3"} {
		recs := slices.Clone(ok)
		recs[1].SetEnv = env
		if _, err := decodeBytes(image(t, recs)); err != nil {
			t.Errorf("bk_set_env %q: %v", env, err)
		}
	}
}
