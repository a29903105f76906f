package snapshot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"runtime/debug"

	"github.com/procq/procq/index"
	"github.com/procq/procq/record"
)

// WriteIndex writes ix as a version 3 snapshot at path, atomically as
// Writer.Commit does: nothing is at path unless it returns nil. It stops
// with ctx's error between sections of the image.
func WriteIndex(ctx context.Context, path string, ix *index.Index) error {
	w, err := Create(path)
	if err != nil {
		return err
	}
	defer w.Abort()
	w.version, w.count = VersionIndex, uint64(ix.Len())
	if err := ix.WriteImage(w.bw, ctx.Err); err != nil {
		if ctx.Err() == nil {
			err = fmt.Errorf("snapshot %s: write: %w", path, err)
		}
		return err
	}
	return w.Commit()
}

// ReadIndex reads the snapshot at path as an index: an index file is
// read as the image it holds, a version 1 file's records are indexed
// (index.Build). Errors are those of Read. A bk_process_id held twice is
// not an error here: index.Index.DuplicateProcess tells.
func ReadIndex(path string) (*index.Index, Header, error) {
	f, st, err := openRegular(path)
	if err != nil {
		return nil, Header{}, fmt.Errorf("snapshot %s: %w", path, err)
	}
	defer f.Close()
	ix, h, err := readIndexFile(f, st.Size())
	if err != nil {
		return nil, Header{}, fmt.Errorf("snapshot %s: %w", path, err)
	}
	return ix, h, nil
}

// readIndexFile reads the open snapshot f of size bytes, from its start,
// as an index: from a map of the file where it can be mapped.
func readIndexFile(f *os.File, size int64) (*index.Index, Header, error) {
	if data, unmap := mapFile(f, size); data != nil {
		return decodeMapped(data, unmap)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, Header{}, err
	}
	return decodeIndex(f, size)
}

// decodeMapped decodes the snapshot image mapped at data, then unmaps it.
// A fault reading the map (the file cut short under it) is an error, not
// a crash. The index shares no memory with the map.
func decodeMapped(data []byte, unmap func()) (ix *index.Index, h Header, err error) {
	defer unmap()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			ix, h, err = nil, Header{}, fmt.Errorf("%w: reading the file failed: %v", ErrCorrupt, p)
		}
	}()
	rh, err := parseHeader(data[:min(len(data), headerSize)], int64(len(data)))
	if err != nil {
		return nil, Header{}, err
	}
	if !IsIndex(rh.Version) {
		return decodeIndex(bytes.NewReader(data), int64(len(data)))
	}
	ix, err = imageIndex(data[headerSize:], rh, releaseMapped)
	if err != nil {
		return nil, Header{}, err
	}
	return ix, rh.Header, nil
}

// decodeIndex reads one snapshot image of size bytes from r as an index.
func decodeIndex(r io.Reader, size int64) (*index.Index, Header, error) {
	h, err := readHeader(r, size)
	if err != nil {
		return nil, Header{}, err
	}
	if IsIndex(h.Version) {
		ix, err := readImage(r, h)
		if err != nil {
			return nil, Header{}, err
		}
		return ix, h.Header, nil
	}
	var recs []*record.Record
	if err := decodeRecords(r, h, func(rec *record.Record) error {
		recs = append(recs, rec)
		return nil
	}); err != nil {
		return nil, Header{}, err
	}
	return index.Build(recs), h.Header, nil
}

// readImage reads the data section of an index image with header h
// from r and returns the index it holds.
func readImage(r io.Reader, h rawHeader) (*index.Index, error) {
	// dataLen is the size of the image less its header (parseHeader).
	data := make([]byte, h.dataLen)
	if _, err := io.ReadFull(r, data); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: truncated data", ErrCorrupt)
		}
		return nil, fmt.Errorf("read: %w", err)
	}
	return imageIndex(data, h, nil)
}

// imageIndex checks data, the data section of an index image with
// header h, and returns the index it holds. release, when not nil, is
// called with each section of data once it is decoded (index.ReadImageDone).
func imageIndex(data []byte, h rawHeader, release func([]byte)) (*index.Index, error) {
	if crc32.Checksum(data, castagnoli) != h.dataCRC {
		return nil, fmt.Errorf("%w: data checksum mismatch", ErrCorrupt)
	}
	ix, err := index.ReadImageDone(data, release)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if uint64(ix.Len()) != h.Count {
		return nil, fmt.Errorf("%w: %d rows, header says %d", ErrCorrupt, ix.Len(), h.Count)
	}
	return ix, nil
}

// eachRecord calls fn with a record of every row of ix, in row order,
// checking each as a version 1 reader does.
func eachRecord(ix *index.Index, fn func(r *record.Record) error) error {
	const block = 256
	rows := make([]uint32, 0, block)
	for lo := 0; lo < ix.Len(); lo += block {
		rows = rows[:0]
		for row := lo; row < min(lo+block, ix.Len()); row++ {
			rows = append(rows, uint32(row))
		}
		for i, rec := range ix.Records(rows) {
			if err := rec.Check(); err != nil {
				return fmt.Errorf("%w: row %d: %w", ErrCorrupt, lo+i, err)
			}
			if err := fn(rec); err != nil {
				return err
			}
		}
	}
	return nil
}
