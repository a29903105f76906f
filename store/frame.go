package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// The journal file (format 2) is a header followed by records, each
// framed as
//
//	length   u32 LE  the body's length
//	bodyCRC  u32 LE  CRC-32C of the body (key and value)
//	headCRC  u32 LE  CRC-32C of the 8 bytes before it
//	body     kind (1 byte) and seq (u64 LE): the key; then the value
//
// The header CRC tells a damaged length from a record cut short by a
// crash: a torn tail is a record whose header or body the file ends
// inside, never one whose checks fail.
const (
	journalMagic = "procq-journal 2\n"
	frameHeader  = 12
	keySize      = 9
	// maxBody bounds a record's body.
	maxBody = 64 << 20
)

// maxPart is about the largest batch value written as one record; a
// larger batch is written as several (a variable for tests).
var maxPart = 16 << 20

// Record kinds.
const (
	kindBatch = 'B' // the value is a part of a batch (see batch.go)
	kindSnap  = 'S' // the journal holds only batches after the snapshot of seq; the value, when any, is the stream position it covers (see stream.go)
	// kindStream records the stream position (a uvarint) batch seq
	// brings the store to; it comes right before the batch's first part,
	// in the same write (see stream.go).
	kindStream = 'M'
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendFrame appends a record of kind and seq holding value to b.
func appendFrame(b []byte, kind byte, seq uint64, value []byte) []byte {
	start := len(b)
	b = append(b, make([]byte, frameHeader+keySize)...)
	body := b[start+frameHeader:]
	body[0] = kind
	binary.LittleEndian.PutUint64(body[1:], seq)
	b = append(b, value...)
	body = b[start+frameHeader:]
	h := b[start : start+frameHeader]
	binary.LittleEndian.PutUint32(h[0:], uint32(len(body)))
	binary.LittleEndian.PutUint32(h[4:], crc32.Checksum(body, castagnoli))
	binary.LittleEndian.PutUint32(h[8:], crc32.Checksum(h[:8], castagnoli))
	return b
}

// frame is one record read from a journal file.
type frame struct {
	off   int64 // where its header starts
	size  int64 // header and body
	kind  byte
	seq   uint64
	value []byte // shares the file's bytes
}

// frameError says why the record at an offset cannot be read.
type frameError struct {
	off    int64
	seq    uint64 // 0 when unknown
	torn   bool   // the file ends inside the record
	reason string
}

// readFrame reads the record at off in data (a whole journal file).
func readFrame(data []byte, off int64) (frame, *frameError) {
	rest := data[off:]
	if len(rest) < frameHeader {
		return frame{}, &frameError{off: off, torn: true, reason: fmt.Sprintf("file ends %d bytes into a record header", len(rest))}
	}
	h := rest[:frameHeader]
	n := binary.LittleEndian.Uint32(h[0:])
	if crc32.Checksum(h[:8], castagnoli) != binary.LittleEndian.Uint32(h[8:]) {
		return frame{}, &frameError{off: off, reason: "record header checksum mismatch"}
	}
	if n < keySize || n > maxBody {
		return frame{}, &frameError{off: off, reason: fmt.Sprintf("record length %d out of range", n)}
	}
	body := rest[frameHeader:]
	var seq uint64
	if len(body) >= keySize {
		seq = binary.LittleEndian.Uint64(body[1:])
	}
	if int64(len(body)) < int64(n) {
		return frame{}, &frameError{off: off, seq: seq, torn: true,
			reason: fmt.Sprintf("file ends %d bytes into a record of %d", len(body), n)}
	}
	body = body[:n]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(h[4:]) {
		return frame{}, &frameError{off: off, seq: seq, reason: "record checksum mismatch"}
	}
	f := frame{off: off, size: frameHeader + int64(n), kind: body[0], seq: seq, value: body[keySize:]}
	if f.kind != kindBatch && f.kind != kindSnap && f.kind != kindStream {
		return frame{}, &frameError{off: off, seq: seq, reason: fmt.Sprintf("unknown record kind %q", f.kind)}
	}
	return f, nil
}

// hasMagic reports whether data starts with the format 2 header.
func hasMagic(data []byte) bool { return bytes.HasPrefix(data, []byte(journalMagic)) }
