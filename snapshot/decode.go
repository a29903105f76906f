package snapshot

import (
	"bufio"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strconv"
	"unsafe"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"

	"procq/record"
)

// Decode reads one snapshot image of exactly size bytes from r, calling fn
// with each record in file order, and returns the image's header. fn gets a
// freshly allocated record that it may keep. An error from fn stops Decode
// and is returned unchanged.
//
// The data checksum is only known to match once every record has been
// read, so when Decode returns an error the caller must discard the records
// it was given. Errors about the image wrap ErrNotSnapshot, ErrVersion or
// ErrCorrupt; errors from r that are not io.EOF are returned wrapped as
// they are.
func Decode(r io.Reader, size int64, fn func(r *record.Record) error) (Header, error) {
	hb := make([]byte, min(max(size, 0), headerSize))
	if _, err := io.ReadFull(r, hb); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return Header{}, fmt.Errorf("%w: truncated header", ErrCorrupt)
		}
		return Header{}, fmt.Errorf("read header: %w", err)
	}
	h, err := parseHeader(hb, size)
	if err != nil {
		return Header{}, err
	}
	src := &dataReader{r: r, left: int64(h.dataLen)}
	br := bufio.NewReaderSize(src, int(min(h.dataLen, readBufSize)))
	x := &decoder{d: msgpack.NewDecoder(br), br: br, src: src}
	for i := uint64(0); i < h.Count; i++ {
		rec := x.newRecord()
		x.record(rec)
		if x.err != nil {
			if src.err != nil {
				return Header{}, fmt.Errorf("read record %d: %w", i, src.err)
			}
			if errors.Is(x.err, io.EOF) || errors.Is(x.err, io.ErrUnexpectedEOF) {
				return Header{}, fmt.Errorf("%w: record %d of %d: truncated data", ErrCorrupt, i, h.Count)
			}
			return Header{}, fmt.Errorf("%w: record %d of %d: %v", ErrCorrupt, i, h.Count, x.err)
		}
		if err := fn(rec); err != nil {
			return Header{}, err
		}
	}
	if n := x.remaining(); n != 0 {
		return Header{}, fmt.Errorf("%w: %d bytes after the last record", ErrCorrupt, n)
	}
	if src.crc != h.dataCRC {
		return Header{}, fmt.Errorf("%w: data checksum mismatch", ErrCorrupt)
	}
	return h.Header, nil
}

const readBufSize = 256 << 10

// dataReader reads the data section: at most left bytes of r, summing
// their CRC-32C and remembering the first error that is not io.EOF.
type dataReader struct {
	r    io.Reader
	left int64
	crc  uint32
	err  error
}

func (s *dataReader) Read(p []byte) (int, error) {
	if s.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > s.left {
		p = p[:s.left]
	}
	n, err := s.r.Read(p)
	s.left -= int64(n)
	s.crc = crc32.Update(s.crc, castagnoli, p[:n])
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	return n, err
}

// decoder reads version 1 records. Errors are sticky: after the first one,
// every read returns a zero value without touching the input, and err says
// what went wrong.
type decoder struct {
	d   *msgpack.Decoder
	br  *bufio.Reader
	src *dataReader
	err error

	tabs [numTables][]string

	// Slabs that records, list items and string bytes are carved from, to
	// save an allocation per object. A carved piece never overlaps another
	// (slices get a capped capacity), so callers may keep any of them.
	// Each refill doubles the slab size, up to a maximum, so small images
	// stay cheap.
	recs     []record.Record
	cts      []record.ConfigTemplate
	pis      []record.ProcInstInfo
	bytes    []byte
	slabGrow [4]int // next refill size of recs, cts, pis, bytes
}

const (
	maxRecSlab   = 256
	maxItemSlab  = 1024
	maxBytesSlab = 64 << 10
)

// slabSize returns the size of the next refill of slab i: start the
// first time, then twice the last size, up to limit.
func (x *decoder) slabSize(i, start, limit int) int {
	size := x.slabGrow[i]
	if size == 0 {
		size = start
	}
	x.slabGrow[i] = min(2*size, limit)
	return size
}

// remaining is the number of data section bytes not yet decoded.
func (x *decoder) remaining() int64 {
	return x.src.left + int64(x.br.Buffered())
}

func (x *decoder) fail(err error) {
	if x.err == nil {
		x.err = err
	}
}

func (x *decoder) failf(format string, args ...any) {
	x.fail(fmt.Errorf(format, args...))
}

func (x *decoder) newRecord() *record.Record {
	if len(x.recs) == 0 {
		x.recs = make([]record.Record, x.slabSize(0, 8, maxRecSlab))
	}
	r := &x.recs[0]
	x.recs = x.recs[1:]
	return r
}

func (x *decoder) record(r *record.Record) {
	x.arrayLen(recordFields, "record")
	r.ID = x.int()
	r.BizID = x.int()
	r.CloudID = x.int()
	r.SetID = x.int()
	r.ModuleID = x.int()
	r.ServiceInstanceID = x.int()
	r.ProcessID = x.int()
	r.ProcessTemplateID = x.int()
	r.ProcessStatus = x.int()
	r.ServiceTemplateID, r.HasServiceTemplate = x.optInt()
	r.IsAuto = x.bool()
	derived := x.nil()
	if !derived {
		r.Expression = x.str()
	}
	r.InnerIP = x.istr(tabInnerIP)
	r.InnerIPv6 = x.istr(tabInnerIPv6)
	r.AgentID = x.istr(tabAgentID)
	r.CloudName = x.istr(tabCloudName)
	r.SetEnv = x.istr(tabSetEnv)
	r.SetName = x.istr(tabSetName)
	r.ModuleName = x.istr(tabModuleName)
	r.ServiceName = x.istr(tabServiceName)
	r.ProcessName = x.istr(tabProcessName)
	if derived {
		r.Expression = x.derivedExpression(r)
	}
	if n := x.listLen(ctFields, "config_templates"); n > 0 {
		r.ConfigTemplates = x.newCTs(n)
		for i := range r.ConfigTemplates {
			c := &r.ConfigTemplates[i]
			x.arrayLen(ctFields, "config template")
			c.ConfigTemplateID = x.int()
			c.TemplateName = x.istr(tabTemplateName)
			c.FileName = x.istr(tabFileName)
		}
	}
	if n := x.listLen(piFields, "proc_inst_infos"); n > 0 {
		r.ProcInstInfos = x.newPIs(n)
		for i := range r.ProcInstInfos {
			p := &r.ProcInstInfos[i]
			x.arrayLen(piFields, "proc inst info")
			if pid, ok := x.optInt(); ok {
				p.ProcessID = pid
			} else {
				p.ProcessID = r.ProcessID
			}
			p.LocalInstID = x.int()
			p.InstID = x.int()
			p.ProcessStatus = x.int()
			p.IsAuto = x.bool()
		}
	}
}

func (x *decoder) newCTs(n int) []record.ConfigTemplate {
	if n > maxItemSlab/8 {
		return make([]record.ConfigTemplate, n)
	}
	if len(x.cts) < n {
		x.cts = make([]record.ConfigTemplate, max(n, x.slabSize(1, 16, maxItemSlab)))
	}
	s := x.cts[:n:n]
	x.cts = x.cts[n:]
	return s
}

func (x *decoder) newPIs(n int) []record.ProcInstInfo {
	if n > maxItemSlab/8 {
		return make([]record.ProcInstInfo, n)
	}
	if len(x.pis) < n {
		x.pis = make([]record.ProcInstInfo, max(n, x.slabSize(2, 16, maxItemSlab)))
	}
	s := x.pis[:n:n]
	x.pis = x.pis[n:]
	return s
}

// newBytes returns n fresh bytes (n > 0) for a string.
func (x *decoder) newBytes(n int) []byte {
	if n > maxBytesSlab/16 {
		return make([]byte, n)
	}
	if len(x.bytes) < n {
		x.bytes = make([]byte, max(n, x.slabSize(3, 1024, maxBytesSlab)))
	}
	b := x.bytes[:n:n]
	x.bytes = x.bytes[n:]
	return b
}

// arrayLen reads an array header that must say want elements.
func (x *decoder) arrayLen(want int, what string) {
	if x.err != nil {
		return
	}
	n, err := x.d.DecodeArrayLen()
	if err != nil {
		x.fail(err)
	} else if n != want {
		x.failf("%s has %d fields, want %d", what, n, want)
	}
}

// listLen reads the length of a list whose items are arrays of fields
// elements, checking that many items can fit in the bytes left.
func (x *decoder) listLen(fields int, what string) int {
	if x.err != nil {
		return 0
	}
	n, err := x.d.DecodeArrayLen()
	switch {
	case err != nil:
		x.fail(err)
	case n < 0:
		x.failf("%s is nil", what)
	case int64(n) > x.remaining()/int64(1+fields):
		x.failf("%s: %d items cannot fit in the %d bytes left", what, n, x.remaining())
	default:
		return n
	}
	return 0
}

func (x *decoder) int() int64 {
	if x.err != nil {
		return 0
	}
	c, err := x.br.ReadByte()
	if err != nil {
		x.fail(err)
		return 0
	}
	if msgpcode.IsFixedNum(c) {
		return int64(int8(c))
	}
	if c == msgpcode.Nil {
		x.failf("nil where an integer belongs")
		return 0
	}
	_ = x.br.UnreadByte() // cannot fail right after a ReadByte
	v, err := x.d.DecodeInt64()
	x.fail(err)
	return v
}

// optInt reads an int or nil; ok is false for nil.
func (x *decoder) optInt() (v int64, ok bool) {
	if x.nil() || x.err != nil {
		return 0, false
	}
	return x.int(), true
}

// nil consumes a nil and reports true if one is next.
func (x *decoder) nil() bool {
	if x.err != nil {
		return false
	}
	c, err := x.br.ReadByte()
	if err != nil {
		x.fail(err)
		return false
	}
	if c == msgpcode.Nil {
		return true
	}
	_ = x.br.UnreadByte() // cannot fail right after a ReadByte
	return false
}

func (x *decoder) bool() bool {
	if x.err != nil {
		return false
	}
	c, err := x.br.ReadByte()
	switch {
	case err != nil:
		x.fail(err)
	case c == msgpcode.True:
		return true
	case c != msgpcode.False:
		x.failf("invalid code %#x where a bool belongs", c)
	}
	return false
}

// str reads a MessagePack str.
func (x *decoder) str() string {
	if x.err != nil {
		return ""
	}
	c, err := x.br.ReadByte()
	if err != nil {
		x.fail(err)
		return ""
	}
	return x.strCode(c)
}

// strCode reads the rest of a str whose first byte c has been read.
func (x *decoder) strCode(c byte) string {
	var n int
	switch {
	case msgpcode.IsFixedString(c):
		n = int(c & msgpcode.FixedStrMask)
	case c == msgpcode.Str8 || c == msgpcode.Str16 || c == msgpcode.Str32:
		_ = x.br.UnreadByte() // cannot fail right after a ReadByte
		var err error
		if n, err = x.d.DecodeBytesLen(); err != nil {
			x.fail(err)
			return ""
		}
	default:
		x.failf("invalid code %#x where a string belongs", c)
		return ""
	}
	if n == 0 {
		return ""
	}
	if int64(n) > x.remaining() {
		x.failf("string of %d bytes cannot fit in the %d bytes left", n, x.remaining())
		return ""
	}
	b := x.newBytes(n)
	if _, err := io.ReadFull(x.br, b); err != nil {
		x.fail(err)
		return ""
	}
	return unsafe.String(&b[0], n)
}

// istr reads an interned string of slot t.
func (x *decoder) istr(t int) string {
	if x.err != nil {
		return ""
	}
	c, err := x.br.ReadByte()
	if err != nil {
		x.fail(err)
		return ""
	}
	if msgpcode.IsString(c) {
		s := x.strCode(c)
		if s != "" {
			x.tabs[t] = append(x.tabs[t], s)
		}
		return s
	}
	var i uint64
	if c <= msgpcode.PosFixedNumHigh {
		i = uint64(c)
	} else {
		_ = x.br.UnreadByte() // cannot fail right after a ReadByte
		if i, err = x.d.DecodeUint64(); err != nil {
			x.fail(err)
			return ""
		}
	}
	if i >= uint64(len(x.tabs[t])) {
		x.failf("string index %d out of range (table has %d)", i, len(x.tabs[t]))
		return ""
	}
	return x.tabs[t][i]
}

// derivedExpression builds r.DerivedExpression() in slab memory.
func (x *decoder) derivedExpression(r *record.Record) string {
	if x.err != nil {
		return ""
	}
	var buf [20]byte
	id := strconv.AppendInt(buf[:0], r.ProcessID, 10)
	n := len(r.SetName) + len(r.ModuleName) + len(r.ServiceName) + len(r.ProcessName) + 4 + len(id)
	if n > maxDerivedLen {
		x.failf("derived expression of %d bytes exceeds %d", n, maxDerivedLen)
		return ""
	}
	b := x.newBytes(n)[:0]
	b = append(b, r.SetName...)
	b = append(b, '.')
	b = append(b, r.ModuleName...)
	b = append(b, '.')
	b = append(b, r.ServiceName...)
	b = append(b, '.')
	b = append(b, r.ProcessName...)
	b = append(b, '.')
	b = append(b, id...)
	return unsafe.String(&b[0], n)
}
