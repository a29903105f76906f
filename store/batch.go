package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/procq/procq/record"
)

// journalBatch is what one batch changed: each process once.
type journalBatch struct {
	ups    []*record.Record // whole records, upserted
	dels   []int64          // processes deleted
	status []record.StatusUpdate
	// stream, when not 0, is the stream position the batch brings the
	// store to (see stream.go): written as a kindStream record before it.
	stream uint64
}

func (b *journalBatch) len() int { return len(b.ups) + len(b.dels) + len(b.status) }

// A batch record's value (one part of a batch) is, with every integer a
// (zig-zag for signed) varint:
//
//	part parts
//	nUpserts   (len JSON)...          the records, as the SPEC's JSON
//	nDeletes   (bk_process_id)...
//	nStatus    (bk_process_id process_status flags [n (bk_process_id local_inst_id inst_id process_status is_auto)...])...
//
// where flags is one byte, bit 0 is_auto and bit 1 "proc_inst_infos
// follow". A batch of 100,000 status updates takes about 600 KB.
const (
	flagAuto = 1 << iota
	flagInfos
)

// encodeBatch returns the records holding batch seq: one, or one per
// maxPart bytes of it, after a kindStream record when b.stream is set.
func encodeBatch(seq uint64, b *journalBatch) []byte {
	jsons := make([][]byte, len(b.ups))
	for i, r := range b.ups {
		jsons[i] = r.AppendJSON(nil, 0)
	}
	// Split the items into parts of about maxPart bytes.
	type span struct{ ups, dels, status [2]int }
	var parts []span
	cur, size := span{}, 0
	cut := func(u, d, s int) {
		cur.ups[1], cur.dels[1], cur.status[1] = u, d, s
		parts = append(parts, cur)
		cur, size = span{ups: [2]int{u, u}, dels: [2]int{d, d}, status: [2]int{s, s}}, 0
	}
	for i := range jsons {
		if size += len(jsons[i]) + 5; size > maxPart {
			cut(i+1, 0, 0)
		}
	}
	for i := range b.dels {
		if size += 10; size > maxPart {
			cut(len(jsons), i+1, 0)
		}
	}
	for i := range b.status {
		if size += 16 + 40*len(b.status[i].ProcInstInfos); size > maxPart {
			cut(len(jsons), len(b.dels), i+1)
		}
	}
	if size > 0 || len(parts) == 0 {
		cut(len(jsons), len(b.dels), len(b.status))
	}
	var out []byte
	if b.stream != 0 {
		out = appendFrame(out, kindStream, seq, binary.AppendUvarint(nil, b.stream))
	}
	var val []byte
	for i, p := range parts {
		val = binary.AppendUvarint(val[:0], uint64(i))
		val = binary.AppendUvarint(val, uint64(len(parts)))
		val = binary.AppendUvarint(val, uint64(p.ups[1]-p.ups[0]))
		for _, j := range jsons[p.ups[0]:p.ups[1]] {
			val = binary.AppendUvarint(val, uint64(len(j)))
			val = append(val, j...)
		}
		val = binary.AppendUvarint(val, uint64(p.dels[1]-p.dels[0]))
		for _, pid := range b.dels[p.dels[0]:p.dels[1]] {
			val = binary.AppendUvarint(val, uint64(pid))
		}
		val = binary.AppendUvarint(val, uint64(p.status[1]-p.status[0]))
		for _, u := range b.status[p.status[0]:p.status[1]] {
			val = appendStatus(val, &u)
		}
		out = appendFrame(out, kindBatch, seq, val)
	}
	return out
}

func appendStatus(b []byte, u *record.StatusUpdate) []byte {
	b = binary.AppendUvarint(b, uint64(u.ProcessID))
	b = binary.AppendVarint(b, u.ProcessStatus)
	var flags byte
	if u.IsAuto {
		flags |= flagAuto
	}
	if u.SetProcInstInfos {
		flags |= flagInfos
	}
	b = append(b, flags)
	if !u.SetProcInstInfos {
		return b
	}
	b = binary.AppendUvarint(b, uint64(len(u.ProcInstInfos)))
	for _, p := range u.ProcInstInfos {
		b = binary.AppendVarint(b, p.ProcessID)
		b = binary.AppendVarint(b, p.LocalInstID)
		b = binary.AppendVarint(b, p.InstID)
		b = binary.AppendVarint(b, p.ProcessStatus)
		if p.IsAuto {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	return b
}

// errShort: a batch value ends inside an item.
var errShort = errors.New("batch value ends early")

// valueReader reads a batch value; its first error sticks.
type valueReader struct {
	b   []byte
	err error
}

func (r *valueReader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *valueReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(errShort)
		return 0
	}
	r.b = r.b[n:]
	return v
}

// varint reads a zig-zag varint, as binary.PutVarint writes it.
func (r *valueReader) varint() int64 {
	ux := r.uvarint()
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

func (r *valueReader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.fail(errShort)
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// count reads a count of items of at least min bytes each, bounded by the
// bytes left.
func (r *valueReader) count(min int) int {
	n := r.uvarint()
	if r.err == nil && n > uint64(len(r.b)/min) {
		r.fail(fmt.Errorf("%d items do not fit in the %d bytes left", n, len(r.b)))
		return 0
	}
	return int(n)
}

// pid reads a bk_process_id, which must be positive.
func (r *valueReader) pid() int64 {
	v := r.uvarint()
	if r.err == nil && (v == 0 || v > math.MaxInt64) {
		r.fail(fmt.Errorf("bk_process_id %d out of range", v))
	}
	return int64(v)
}

// decodeBatchPart reads a batch record's value into b, returning its part
// number and the batch's part count.
func decodeBatchPart(v []byte, b *journalBatch) (part, parts int, err error) {
	r := valueReader{b: v}
	pt, pts := r.uvarint(), r.uvarint()
	if r.err == nil && (pts == 0 || pt >= pts || pts > maxBody) {
		r.fail(fmt.Errorf("part %d of %d", pt, pts))
	}
	for range r.count(2) {
		n := r.uvarint()
		if r.err == nil && n > uint64(len(r.b)) {
			r.fail(errShort)
		}
		if r.err != nil {
			break
		}
		rec := new(record.Record)
		if err := rec.UnmarshalJSON(r.b[:n]); err != nil {
			r.fail(fmt.Errorf("upsert: %w", err))
			break
		}
		if rec.ProcessID <= 0 {
			r.fail(fmt.Errorf("upsert: bk_process_id %d", rec.ProcessID))
		}
		r.b = r.b[n:]
		b.ups = append(b.ups, rec)
	}
	for range r.count(1) {
		if pid := r.pid(); r.err == nil {
			b.dels = append(b.dels, pid)
		}
	}
	for range r.count(3) {
		if r.err != nil {
			break
		}
		b.status = append(b.status, r.status())
	}
	if r.err == nil && len(r.b) > 0 {
		r.fail(fmt.Errorf("%d bytes after the batch", len(r.b)))
	}
	return int(pt), int(pts), r.err
}

func (r *valueReader) status() record.StatusUpdate {
	u := record.StatusUpdate{ProcessID: r.pid(), ProcessStatus: r.varint()}
	flags := r.byte()
	if flags&^(flagAuto|flagInfos) != 0 {
		r.fail(fmt.Errorf("status flags %#x", flags))
	}
	u.IsAuto, u.SetProcInstInfos = flags&flagAuto != 0, flags&flagInfos != 0
	if !u.SetProcInstInfos {
		return u
	}
	n := r.count(5)
	if r.err != nil || n == 0 {
		return u
	}
	u.ProcInstInfos = make([]record.ProcInstInfo, 0, n)
	for range n {
		p := record.ProcInstInfo{ProcessID: r.varint(), LocalInstID: r.varint(), InstID: r.varint(), ProcessStatus: r.varint()}
		switch r.byte() {
		case 0:
		case 1:
			p.IsAuto = true
		default:
			r.fail(errors.New("is_auto is neither 0 nor 1"))
		}
		u.ProcInstInfos = append(u.ProcInstInfos, p)
	}
	return u
}
