package snapshot

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/procq/procq/record"
)

// Writer writes a snapshot file one record at a time. Nothing appears at
// the destination path until Commit succeeds; until then the records go to
// a temporary file in the same directory, and any file already at the path
// is left as it was. A Writer is not safe for concurrent use.
type Writer struct {
	path string
	tmp  string // temporary file; "" once renamed or removed
	f    *os.File
	sum  *sumWriter
	bw   *bufio.Writer
	enc  *encoder

	count   uint64
	version uint32 // 0 for Version (records); VersionIndex for WriteIndex
	err     error  // first error of Append; Commit fails with it
	done    bool   // Commit or Abort was called
}

// errFinished is returned by a Writer used after Commit or Abort.
var errFinished = errors.New("writer already committed or aborted")

const writeBufSize = 256 << 10

// Create starts writing a snapshot to be placed at path by Commit.
func Create(path string) (*Writer, error) {
	f, tmp, err := createTemp(path)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", path, err)
	}
	// A zero header until Commit: a leftover temporary file from a crash
	// is not mistaken for a snapshot.
	if _, err := f.Write(make([]byte, headerSize)); err != nil {
		f.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("snapshot %s: %w", path, err)
	}
	sum := &sumWriter{w: f}
	bw := bufio.NewWriterSize(sum, writeBufSize)
	return &Writer{path: path, tmp: tmp, f: f, sum: sum, bw: bw, enc: newEncoder(bw)}, nil
}

// createTemp creates a new file named like path plus a random suffix,
// with the default permissions (0666 less the umask).
func createTemp(path string) (*os.File, string, error) {
	dir, base := filepath.Split(path)
	for range 100 {
		tmp := filepath.Join(dir, "."+base+".tmp"+strconv.FormatUint(rand.Uint64(), 36))
		f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		return f, tmp, err
	}
	return nil, "", errors.New("cannot find an unused temporary file name")
}

// Append adds r as the next record of the snapshot. r itself is not
// retained; its strings may be, until Commit or Abort. A record that fails
// record.Check, which Read would refuse, is refused (and the snapshot may
// go on).
func (w *Writer) Append(r *record.Record) error {
	switch {
	case w.done:
		return fmt.Errorf("snapshot %s: %w", w.path, errFinished)
	case w.err != nil:
		return w.err
	case r == nil:
		return fmt.Errorf("snapshot %s: append of a nil record", w.path)
	}
	if err := r.Check(); err != nil {
		return fmt.Errorf("snapshot %s: %w", w.path, err)
	}
	if err := w.enc.encode(r); err != nil {
		w.err = fmt.Errorf("snapshot %s: write: %w", w.path, err)
		return w.err
	}
	w.count++
	return nil
}

// Commit completes the snapshot and atomically puts it at the path given
// to Create, replacing any file there. It is durable (synced to disk,
// directory included) when Commit returns nil. If Commit fails, the
// temporary file is removed and the path holds its previous file, unless
// only the final directory sync failed (the error says so).
func (w *Writer) Commit() error {
	if w.done {
		return fmt.Errorf("snapshot %s: %w", w.path, errFinished)
	}
	w.done = true
	if w.err != nil {
		return errors.Join(w.err, w.cleanup())
	}
	if err := w.finish(); err != nil {
		return fmt.Errorf("snapshot %s: %w", w.path, errors.Join(err, w.cleanup()))
	}
	return nil
}

func (w *Writer) finish() error {
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	h := rawHeader{
		Header:  Header{Version: cmp.Or(w.version, Version), Count: w.count, Created: time.Now()},
		dataCRC: w.sum.crc,
		dataLen: uint64(w.sum.n),
	}
	if _, err := w.f.WriteAt(h.marshal(), 0); err != nil {
		return fmt.Errorf("write header: %w", err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	f := w.f
	w.f = nil
	if err := f.Close(); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	if err := os.Rename(w.tmp, w.path); err != nil {
		return err
	}
	w.tmp = ""
	w.enc, w.bw = nil, nil
	if err := syncDir(filepath.Dir(w.path)); err != nil {
		return fmt.Errorf("renamed into place, but syncing the directory failed: %w", err)
	}
	return nil
}

// Abort abandons the snapshot: the temporary file is removed and the path
// given to Create is not touched. Abort after Commit does nothing, so it
// can be deferred right after Create.
func (w *Writer) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	if err := w.cleanup(); err != nil {
		return fmt.Errorf("snapshot %s: %w", w.path, err)
	}
	return nil
}

// cleanup closes and removes the temporary file, if there still is one,
// and drops the encoder's string tables.
func (w *Writer) cleanup() error {
	w.enc, w.bw = nil, nil
	var errs []error
	if w.f != nil {
		errs = append(errs, w.f.Close())
		w.f = nil
	}
	if w.tmp != "" {
		if err := os.Remove(w.tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
		w.tmp = ""
	}
	return errors.Join(errs...)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if errors.Is(err, syscall.EINVAL) { // file systems that cannot sync a directory
		err = nil
	}
	return errors.Join(err, d.Close())
}

// sumWriter counts and checksums the bytes written through it.
type sumWriter struct {
	w   io.Writer
	n   int64
	crc uint32
}

func (s *sumWriter) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	s.n += int64(n)
	s.crc = crc32.Update(s.crc, castagnoli, p[:n])
	return n, err
}

// WriteAll writes recs as the snapshot at path, atomically replacing any
// file there.
func WriteAll(path string, recs []record.Record) error {
	w, err := Create(path)
	if err != nil {
		return err
	}
	defer w.Abort()
	for i := range recs {
		if err := w.Append(&recs[i]); err != nil {
			return err
		}
	}
	return w.Commit()
}

// Read reads the snapshot at path, calling fn with each record in file
// order, and returns the file's header. fn gets a freshly allocated record
// that it may keep; an error from fn stops Read and is returned wrapped.
// An index file (version 2 or 3) is read as an index first (ReadIndex)
// and its records are made from it, in row order.
//
// The data checksum of a version 1 file is verified after the last record
// (of an index file, before the first), so when Read
// returns an error the caller must discard every record it was given, and
// the Header is zero. Errors name the file; errors about its content wrap
// ErrNotSnapshot, ErrVersion or ErrCorrupt.
//
// Records are handed out from blocks of a few hundred, and their strings
// from shared blocks of up to 64 KiB, with repeated names shared between
// records: memory is released when no record of a block is referenced any
// more. Each record and list is its own memory: changing one does not
// change another.
func Read(path string, fn func(r *record.Record) error) (Header, error) {
	f, st, err := openRegular(path)
	if err != nil {
		return Header{}, fmt.Errorf("snapshot %s: %w", path, err)
	}
	defer f.Close()
	rh, herr := readHeader(f, st.Size())
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return Header{}, fmt.Errorf("snapshot %s: %w", path, err)
	}
	if herr == nil && IsIndex(rh.Version) {
		// The same open file, read from its map rather than a heap copy.
		ix, h, err := readIndexFile(f, st.Size())
		if err == nil {
			err = eachRecord(ix, fn)
		}
		if err != nil {
			return Header{}, fmt.Errorf("snapshot %s: %w", path, err)
		}
		return h, nil
	}
	h, err := Decode(f, st.Size(), fn)
	if err != nil {
		return h, fmt.Errorf("snapshot %s: %w", path, err)
	}
	return h, nil
}

// openRegular opens path for reading if it is a regular file, and fails
// with ErrNotRegular otherwise. The open does not wait (O_NONBLOCK), so a
// FIFO without a writer is refused rather than waited for; reads of a
// regular file ignore the flag.
func openRegular(path string) (*os.File, os.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err == nil {
		err = CheckRegular(st)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, st, nil
}

// CheckRegular returns nil for a regular file, and otherwise an error
// wrapping ErrNotRegular that names the file's type. Files that a store
// keeps next to its snapshots are checked with it too.
func CheckRegular(st os.FileInfo) error {
	if st.Mode().IsRegular() {
		return nil
	}
	return fmt.Errorf("%w (%s)", ErrNotRegular, fileType(st.Mode()))
}

// fileType names the type of a file that is not regular.
func fileType(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a block device"
	}
	return m.Type().String()
}

// ReadHeader reads and checks the header of the snapshot at path, and
// checks that the file has the size the header promises. It does not read
// the records or verify their checksum; Read does.
func ReadHeader(path string) (Header, error) {
	f, st, err := openRegular(path)
	if err != nil {
		return Header{}, fmt.Errorf("snapshot %s: %w", path, err)
	}
	defer f.Close()
	b := make([]byte, min(st.Size(), headerSize))
	if _, err := io.ReadFull(f, b); err != nil {
		return Header{}, fmt.Errorf("snapshot %s: read header: %w", path, err)
	}
	h, err := parseHeader(b, st.Size())
	if err != nil {
		return Header{}, fmt.Errorf("snapshot %s: %w", path, err)
	}
	return h.Header, nil
}
