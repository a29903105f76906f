// Package snapshot reads and writes the on-disk image of a set of process
// records (record.Record): the file procq loads its in-memory engine from.
// Version 1 holds the records (Writer writes it); versions 2 and 3 the
// image of their built indexes (WriteIndex writes version 3), so that
// loading one is reading, not indexing. All are read by Read, Decode and
// ReadIndex.
//
// # File layout
//
// A snapshot file is a fixed 44-byte header followed by the data section.
// All header integers are little-endian.
//
//	offset size field
//	     0    8 magic "PROCQSNP"
//	     8    4 format version (1, 2 or 3)
//	    12    4 CRC-32C (Castagnoli) of the data section
//	    16    8 record count (versions 2 and 3: rows of the index)
//	    24    8 creation time, Unix nanoseconds
//	    32    8 data section length in bytes; the file is exactly 44 + this
//	    40    4 CRC-32C of header bytes 0..39
//
// In version 1 the data section is the records, one after another, each
// one MessagePack array (see the version 1 record layout below). There is
// no framing between records; the count in the header says how many there
// are, and the data section must hold exactly that many and nothing else.
// In versions 2 and 3 it is the image of an index (see the version 3
// layout).
//
// Readers verify everything: magic (ErrNotSnapshot), version (ErrVersion),
// header checksum, file size against the header, the record count against
// the size (every record takes at least 26 bytes), each record's encoding,
// and, at the end, the data checksum (all ErrCorrupt). A proper prefix of a
// valid file, including an empty file, is ErrCorrupt. A path that is not a
// regular file (after symbolic links) is refused with ErrNotRegular before
// any byte is read.
//
// # Version 1 record layout
//
// Each record is a MessagePack array of exactly 23 elements, in this order:
//
//	 0 id                   int
//	 1 bk_biz_id            int
//	 2 bk_cloud_id          int
//	 3 bk_set_id            int
//	 4 bk_module_id         int
//	 5 service_instance_id  int
//	 6 bk_process_id        int
//	 7 process_template_id  int
//	 8 process_status       int
//	 9 service_template_id  int, or nil when the record has none
//	10 is_auto              bool
//	11 expression           nil when it equals the derived expression
//	                        (record.Record.DerivedExpression) and that is
//	                        at most 512 bytes long, else str
//	12 bk_host_innerip      istr
//	13 bk_host_innerip_v6   istr
//	14 bk_agent_id          istr
//	15 bk_cloud_name        istr
//	16 bk_set_env           istr
//	17 bk_set_name          istr
//	18 bk_module_name       istr
//	19 bk_service_name      istr
//	20 bk_process_name      istr
//	21 config_templates     array of [config_template_id int,
//	                        template_name istr, file_name istr]
//	22 proc_inst_infos      array of [bk_process_id int or nil (nil: the
//	                        record's bk_process_id), local_inst_id int,
//	                        inst_id int, process_status int, is_auto bool]
//
// Integers use the smallest MessagePack encoding. An istr ("interned
// string") is either a str or a non-negative int: each of the eleven istr
// slots (the nine above plus template_name and file_name) has its own table,
// empty at the start of the data section; every non-empty str in a slot is
// appended to that slot's table, and an int is an index into it. Writers
// emit a str the first time a value appears in a slot and its index after
// that, so repeated names cost one or two bytes on disk and share one string
// in memory after reading.
//
// Empty lists are read back as nil slices. A record without a service
// template (HasServiceTemplate false) is read back with ServiceTemplateID 0.
//
// # Version 3 layout
//
// The data section is one MessagePack array: the row count, then 24
// sections, each a bin holding one MessagePack array, so that a reader
// finds every section without decoding the others and decodes them in
// parallel (index.ReadImage):
//
//	 0 meta        business first rows and ids, bk_process_id sorted and
//	               the row of each (and ids by row when one repeats)
//	 1 scalars     id, process and service template ids, cloud and service
//	               instance term ids, expression, IPv6 and agent id columns
//	 2 configs     config_templates lists: ends, nil marks, item columns
//	 3 infos       proc_inst_infos lists as indexed, the same way
//	 4 status      process_status (one-byte codes and their values, or the
//	               values), is_auto bits, and the proc_inst_infos lists
//	               status updates set since, by row
//	 5-10 int terms set, module, service instance, cloud, process_status,
//	               is_auto: distinct values ascending and their postings
//	11-17 str terms set env, set, module, service and process names, IP,
//	               cloud name: the dictionary (values packed, end offsets),
//	               the term of each row, the trigram table, postings, and
//	               the suffix order when suffix globs use it
//	18-23 orders   id, set, module, process name, process id, IP: the
//	               permutation, the ranks (process name: its term ids),
//	               group starts, uniqueness, and the block bitmaps
//
// A column of fixed-width integers is a bin of little-endian values; a
// column of narrow integers is [width (0, 1, 2, 4 or 8 bytes), bin]; a
// postings list is a bin of spans, one per term (first row and end row;
// or for a term of at most 64 scattered rows, 1<<31 plus where its rows
// start in the next bin, and where they end), a bin of those terms' rows,
// and an array of [term, bitmap] for the other terms; a bitmap is a bin
// in roaring's portable serialization. Version 2 is the same without the
// bin of listed rows (no term is listed). The reader checks every
// length against the bytes left and every row, term and offset against
// what it indexes, so that a malformed image (ErrCorrupt) costs no more
// memory than its size and never panics; the row count must equal the
// header's.
//
// # Versions
//
// The version number names the data layout above and the header layout
// after the version field. Any change to either — adding, removing,
// reordering or retyping a field, or changing the interning rules — needs a
// new version number. A reader rejects every version it does not know with
// ErrVersion, so old files must then be rewritten (for example exported to
// JSON Lines by the old binary and imported by the new one) unless the new
// reader keeps a decoder for the old version. The magic and the version
// field stay at offsets 0 and 8 in every version.
package snapshot

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"
)

// The format versions this package reads: Writer writes Version (records),
// WriteIndex VersionIndex (the image of an index). VersionIndex2, the
// image before postings had lists, is still read.
const (
	Version       uint32 = 1
	VersionIndex2 uint32 = 2
	VersionIndex  uint32 = 3
)

// IsIndex reports whether files of version v hold the image of an index.
func IsIndex(v uint32) bool { return v == VersionIndex || v == VersionIndex2 }

// Sentinel errors wrapped by every error this package returns for a file
// that is not a valid snapshot. Branch on them with errors.Is.
var (
	// ErrNotSnapshot means the file does not start with the snapshot magic.
	ErrNotSnapshot = errors.New("not a snapshot file")
	// ErrVersion means the file is a snapshot of an unknown format version.
	ErrVersion = errors.New("unsupported snapshot format version")
	// ErrCorrupt means the file is truncated, fails a checksum, or holds
	// data that does not decode as the records its header promises.
	ErrCorrupt = errors.New("corrupt snapshot")
	// ErrNotRegular means the path names something other than a regular
	// file (a directory, a FIFO, a device), which is refused before it is
	// read: such a file could block a reader or never end.
	ErrNotRegular = errors.New("not a regular file")
)

// Header describes a snapshot file.
type Header struct {
	// Version is the file's format version.
	Version uint32
	// Count is the number of records in the file.
	Count uint64
	// Created is when the file was written.
	Created time.Time
}

const (
	magic      = "PROCQSNP"
	headerSize = 44

	// recordFields is the length of a version 1 record array.
	recordFields = 23
	// minRecordSize is the fewest bytes a version 1 record can take: an
	// array16 header (3 bytes) and one byte per field.
	minRecordSize = 3 + recordFields
	// ctFields and piFields are the lengths of the list item arrays; an
	// item takes at least 1+fields bytes.
	ctFields = 3
	piFields = 5
	// minIndexRowSize is the fewest bytes a row takes in an index
	// image: four in the permutation of each sort key, at least.
	minIndexRowSize = 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// rawHeader is the decoded fixed header.
type rawHeader struct {
	Header
	dataCRC uint32
	dataLen uint64
}

func (h *rawHeader) marshal() []byte {
	b := make([]byte, headerSize)
	copy(b, magic)
	binary.LittleEndian.PutUint32(b[8:], h.Version)
	binary.LittleEndian.PutUint32(b[12:], h.dataCRC)
	binary.LittleEndian.PutUint64(b[16:], h.Count)
	binary.LittleEndian.PutUint64(b[24:], uint64(h.Created.UnixNano()))
	binary.LittleEndian.PutUint64(b[32:], h.dataLen)
	binary.LittleEndian.PutUint32(b[40:], crc32.Checksum(b[:40], castagnoli))
	return b
}

// parseHeader checks b, the first min(size, headerSize) bytes of an image
// of size bytes, and decodes its header.
func parseHeader(b []byte, size int64) (rawHeader, error) {
	var h rawHeader
	n := min(len(b), len(magic))
	if string(b[:n]) != magic[:n] {
		return h, ErrNotSnapshot
	}
	if len(b) < 12 {
		return h, fmt.Errorf("%w: truncated header (%d bytes)", ErrCorrupt, len(b))
	}
	h.Version = binary.LittleEndian.Uint32(b[8:])
	if h.Version != Version && !IsIndex(h.Version) {
		return h, fmt.Errorf("%w %d (this program reads versions %d, %d and %d)", ErrVersion, h.Version, Version, VersionIndex2, VersionIndex)
	}
	if len(b) < headerSize {
		return h, fmt.Errorf("%w: truncated header (%d bytes)", ErrCorrupt, len(b))
	}
	if got, want := crc32.Checksum(b[:40], castagnoli), binary.LittleEndian.Uint32(b[40:]); got != want {
		return h, fmt.Errorf("%w: header checksum mismatch", ErrCorrupt)
	}
	h.dataCRC = binary.LittleEndian.Uint32(b[12:])
	h.Count = binary.LittleEndian.Uint64(b[16:])
	h.Created = time.Unix(0, int64(binary.LittleEndian.Uint64(b[24:])))
	h.dataLen = binary.LittleEndian.Uint64(b[32:])
	if size < headerSize || h.dataLen != uint64(size-headerSize) {
		return h, fmt.Errorf("%w: file is %d bytes, header says %d bytes of data after the %d-byte header",
			ErrCorrupt, size, h.dataLen, headerSize)
	}
	minRow := uint64(minRecordSize)
	if h.Version == VersionIndex {
		minRow = minIndexRowSize
	}
	if h.Count > h.dataLen/minRow {
		return h, fmt.Errorf("%w: header count %d: that many records cannot fit in %d bytes", ErrCorrupt, h.Count, h.dataLen)
	}
	return h, nil
}
