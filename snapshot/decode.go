package snapshot

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"unsafe"

	"github.com/vmihailenco/msgpack/v5/msgpcode"

	"github.com/procq/procq/record"
)

// Decode reads one snapshot image of exactly size bytes from r, calling fn
// with each record in file order, and returns the image's header. fn gets a
// freshly allocated record that it may keep. An error from fn stops Decode
// and is returned unchanged.
//
// The data checksum is only known to match once every record has been
// read, so when Decode returns an error the caller must discard the records
// it was given, and the Header is zero. Errors about the image wrap
// ErrNotSnapshot, ErrVersion or ErrCorrupt; a record that fails
// record.Check (as an imported line would) is ErrCorrupt and
// record.ErrInvalid; errors from r other than io.EOF
// are returned wrapped as they are. Records share memory as described at
// Read.
func Decode(r io.Reader, size int64, fn func(r *record.Record) error) (Header, error) {
	h, err := readHeader(r, size)
	if err != nil {
		return Header{}, err
	}
	if IsIndex(h.Version) {
		ix, err := readImage(r, h)
		if err == nil {
			err = eachRecord(ix, fn)
		}
		if err != nil {
			return Header{}, err
		}
		return h.Header, nil
	}
	if err := decodeRecords(r, h, fn); err != nil {
		return Header{}, err
	}
	return h.Header, nil
}

// readHeader reads and checks the header of an image of size bytes.
func readHeader(r io.Reader, size int64) (rawHeader, error) {
	hb := make([]byte, min(max(size, 0), headerSize))
	if _, err := io.ReadFull(r, hb); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return rawHeader{}, fmt.Errorf("%w: truncated header", ErrCorrupt)
		}
		return rawHeader{}, fmt.Errorf("read header: %w", err)
	}
	return parseHeader(hb, size)
}

// decodeRecords reads the version 1 data section of the image with
// header h from r, calling fn with each record.
func decodeRecords(r io.Reader, h rawHeader, fn func(r *record.Record) error) error {
	src := &dataReader{r: r, left: int64(h.dataLen)}
	x := &decoder{src: src, buf: make([]byte, max(16, min(h.dataLen, readBufSize)))}
	for i := uint64(0); i < h.Count; i++ {
		rec := x.newRecord()
		x.record(rec)
		if x.err != nil {
			if src.err != nil {
				return fmt.Errorf("read record %d: %w", i, src.err)
			}
			return fmt.Errorf("%w: record %d of %d: %v", ErrCorrupt, i, h.Count, x.err)
		}
		if err := rec.Check(); err != nil {
			return fmt.Errorf("%w: record %d of %d: %w", ErrCorrupt, i, h.Count, err)
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	if src.err != nil { // a read failed, but enough bytes came anyway
		return fmt.Errorf("read: %w", src.err)
	}
	if n := x.remaining(); n != 0 {
		return fmt.Errorf("%w: %d bytes after the last record", ErrCorrupt, n)
	}
	if src.crc != h.dataCRC {
		return fmt.Errorf("%w: data checksum mismatch", ErrCorrupt)
	}
	return nil
}

// readBufSize is the size of the read window. Values up to half of it are
// parsed in place; longer strings are read straight into their memory.
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

// errTruncated is the decoder's error for data that ends inside a value.
var errTruncated = errors.New("truncated data")

// decoder parses version 1 records (a small, strict subset of MessagePack)
// from a buffered window onto the data section, refilled as it drains, so
// that no value decode costs a call through an interface.
//
// Errors are sticky: after the first one every read returns a zero value
// without touching the input, and err says what went wrong.
type decoder struct {
	src  *dataReader
	buf  []byte // the window; buf[r:w] is read but not yet decoded
	r, w int
	err  error

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

// remaining is the number of data section bytes not yet decoded.
func (x *decoder) remaining() int64 {
	return x.src.left + int64(x.w-x.r)
}

// fail records err, the first error, and empties the window so that every
// later read takes the slow path, which checks for it.
func (x *decoder) fail(err error) {
	if x.err == nil {
		x.err = err
	}
	x.r, x.w = 0, 0
}

func (x *decoder) failf(format string, args ...any) {
	x.fail(fmt.Errorf(format, args...))
}

// avail makes at least n bytes (n <= len(x.buf)) available in the window,
// or records errTruncated and reports false.
func (x *decoder) avail(n int) bool {
	if x.w-x.r >= n {
		return true
	}
	return x.fill(n)
}

func (x *decoder) fill(n int) bool {
	if x.err != nil {
		return false
	}
	x.w = copy(x.buf, x.buf[x.r:x.w])
	x.r = 0
	for empty := 0; x.w < n; {
		m, err := x.src.Read(x.buf[x.w:])
		x.w += m
		if err != nil || m == 0 && empty >= 100 {
			if x.w >= n {
				break
			}
			x.fail(errTruncated)
			return false
		}
		if m == 0 {
			empty++
		}
	}
	return true
}

// code returns the next byte without consuming it; false after an error.
func (x *decoder) code() (byte, bool) {
	if r := x.r; r < x.w {
		return x.buf[r], true
	}
	return x.codeSlow()
}

func (x *decoder) codeSlow() (byte, bool) {
	if x.err != nil || !x.fill(1) {
		return 0, false
	}
	return x.buf[x.r], true
}

// skip consumes n bytes known to be in the window.
func (x *decoder) skip(n int) { x.r += n }

// uintN consumes a code byte and the n-byte big-endian integer after it;
// n is 1, 2, 4 or 8. If the data ends first it returns 0, false and the
// error is recorded.
func (x *decoder) uintN(n int) (uint64, bool) {
	if !x.avail(1 + n) {
		return 0, false
	}
	b := x.buf[x.r+1 : x.r+1+n]
	x.r += 1 + n
	switch n {
	case 1:
		return uint64(b[0]), true
	case 2:
		return uint64(binary.BigEndian.Uint16(b)), true
	case 4:
		return uint64(binary.BigEndian.Uint32(b)), true
	default:
		return binary.BigEndian.Uint64(b), true
	}
}

func (x *decoder) newRecord() *record.Record {
	if len(x.recs) == 0 {
		x.recs = make([]record.Record, x.slabSize(0, 8, maxRecSlab))
	}
	r := &x.recs[0]
	x.recs = x.recs[1:]
	return r
}

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
	if n := x.listLen(piFields, "proc inst info"); n > 0 {
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

// rawArrayLen reads an array header.
func (x *decoder) rawArrayLen() (int, bool) {
	c, ok := x.code()
	switch {
	case !ok:
		return 0, false
	case msgpcode.IsFixedArray(c):
		x.skip(1)
		return int(c & msgpcode.FixedArrayMask), true
	case c == msgpcode.Array16:
		n, ok := x.uintN(2)
		return int(n), ok
	case c == msgpcode.Array32:
		n, ok := x.uintN(4)
		return int(n), ok
	}
	x.failf("invalid code %#x where an array belongs", c)
	return 0, false
}

// arrayLen reads an array header that must say want elements.
func (x *decoder) arrayLen(want int, what string) {
	if n, ok := x.rawArrayLen(); ok && n != want {
		x.failf("%s has %d fields, want %d", what, n, want)
	}
}

// listLen reads the length of a list whose items are arrays of fields
// elements, checking that that many items can fit in the bytes left.
func (x *decoder) listLen(fields int, what string) int {
	n, ok := x.rawArrayLen()
	if !ok {
		return 0
	}
	if int64(n) > x.remaining()/int64(1+fields) {
		x.failf("%d items of %s cannot fit in the %d bytes left", n, what, x.remaining())
		return 0
	}
	return n
}

func (x *decoder) int() int64 {
	if x.r < x.w && x.buf[x.r] <= msgpcode.PosFixedNumHigh {
		x.r++
		return int64(x.buf[x.r-1])
	}
	return x.intCode()
}

func (x *decoder) intCode() int64 {
	c, ok := x.code()
	if !ok {
		return 0
	}
	if msgpcode.IsFixedNum(c) {
		x.skip(1)
		return int64(int8(c))
	}
	return x.intSlow(c)
}

func (x *decoder) intSlow(c byte) int64 {
	// uintN returns 0 on error, and the error is recorded.
	switch c {
	case msgpcode.Uint8:
		v, _ := x.uintN(1)
		return int64(v)
	case msgpcode.Uint16:
		v, _ := x.uintN(2)
		return int64(v)
	case msgpcode.Uint32:
		v, _ := x.uintN(4)
		return int64(v)
	case msgpcode.Uint64, msgpcode.Int64:
		v, _ := x.uintN(8)
		return int64(v)
	case msgpcode.Int8:
		v, _ := x.uintN(1)
		return int64(int8(v))
	case msgpcode.Int16:
		v, _ := x.uintN(2)
		return int64(int16(v))
	case msgpcode.Int32:
		v, _ := x.uintN(4)
		return int64(int32(v))
	}
	x.failf("invalid code %#x where an integer belongs", c)
	return 0
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
	c, ok := x.code()
	if ok && c == msgpcode.Nil {
		x.skip(1)
		return true
	}
	return false
}

func (x *decoder) bool() bool {
	c, ok := x.code()
	switch {
	case !ok:
	case c == msgpcode.True:
		x.skip(1)
		return true
	case c == msgpcode.False:
		x.skip(1)
	default:
		x.failf("invalid code %#x where a bool belongs", c)
	}
	return false
}

// strLen reads a str header.
func (x *decoder) strLen(c byte) (int, bool) {
	var n uint64
	ok := true
	switch {
	case msgpcode.IsFixedString(c):
		x.skip(1)
		n = uint64(c & msgpcode.FixedStrMask)
	case c == msgpcode.Str8:
		n, ok = x.uintN(1)
	case c == msgpcode.Str16:
		n, ok = x.uintN(2)
	case c == msgpcode.Str32:
		n, ok = x.uintN(4)
	default:
		x.failf("invalid code %#x where a string belongs", c)
		return 0, false
	}
	if ok && n > uint64(x.remaining()) {
		x.failf("string of %d bytes cannot fit in the %d bytes left", n, x.remaining())
		return 0, false
	}
	return int(n), ok
}

// str reads a str.
func (x *decoder) str() string {
	c, ok := x.code()
	if !ok {
		return ""
	}
	return x.strBody(c)
}

// strBody reads a str whose first byte c is next.
func (x *decoder) strBody(c byte) string {
	n, ok := x.strLen(c)
	if !ok || n == 0 {
		return ""
	}
	b := x.newBytes(n)
	if n <= len(x.buf)/2 {
		if !x.avail(n) {
			return ""
		}
		x.r += copy(b, x.buf[x.r:x.w])
	} else {
		// Long: take what the window holds, read the rest directly.
		k := copy(b, x.buf[x.r:x.w])
		x.r += k
		if _, err := io.ReadFull(x.src, b[k:]); err != nil {
			x.fail(errTruncated)
			return ""
		}
	}
	return unsafe.String(&b[0], n)
}

// istr reads an interned string of slot t.
func (x *decoder) istr(t int) string {
	if x.r < x.w {
		tab := x.tabs[t]
		if c := x.buf[x.r]; int(c) < len(tab) && c <= msgpcode.PosFixedNumHigh {
			x.r++
			return tab[c]
		}
	}
	return x.istrSlow(t)
}

func (x *decoder) istrSlow(t int) string {
	c, ok := x.code()
	if !ok {
		return ""
	}
	var i uint64
	switch {
	case c <= msgpcode.PosFixedNumHigh:
		x.skip(1)
		i = uint64(c)
	case msgpcode.IsString(c):
		s := x.strBody(c)
		if s != "" {
			x.tabs[t] = append(x.tabs[t], s)
		}
		return s
	case c == msgpcode.Uint8:
		i, ok = x.uintN(1)
	case c == msgpcode.Uint16:
		i, ok = x.uintN(2)
	case c == msgpcode.Uint32:
		i, ok = x.uintN(4)
	default:
		x.failf("invalid code %#x where an interned string belongs", c)
		return ""
	}
	switch {
	case !ok:
		return ""
	case i >= uint64(len(x.tabs[t])):
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
	n := r.DerivedExpressionLen()
	if n > maxDerivedLen {
		x.failf("derived expression of %d bytes exceeds %d", n, maxDerivedLen)
		return ""
	}
	b := r.AppendDerivedExpression(x.newBytes(n)[:0])
	return unsafe.String(&b[0], n)
}
