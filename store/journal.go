package store

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// DamageError says where a journal is damaged. It wraps
// ErrCorruptJournal.
type DamageError struct {
	// File is the journal's path; Offset the byte offset of the record
	// (or header) that cannot be read; Seq its batch, 0 when unknown.
	File   string
	Offset int64
	Seq    uint64
	Reason string
}

func (e *DamageError) Error() string {
	batch := "batch unknown"
	if e.Seq > 0 {
		batch = fmt.Sprintf("batch %d", e.Seq)
	}
	return fmt.Sprintf("journal %s: %v at byte offset %d (%s): %s", e.File, ErrCorruptJournal, e.Offset, batch, e.Reason)
}

// Unwrap returns ErrCorruptJournal.
func (e *DamageError) Unwrap() error { return ErrCorruptJournal }

func damage(path string, fe *frameError) *DamageError {
	return &DamageError{File: path, Offset: fe.off, Seq: fe.seq, Reason: fe.reason}
}

// batchSpan is where a whole batch lies in the journal file.
type batchSpan struct {
	seq      uint64
	off, end int64
	changes  int // the processes it changes
	// stream is the stream position the batch brought the store to, 0
	// when it came from no stream; off is then its kindStream record's.
	stream uint64
}

// journalScan is what a format 2 journal file holds.
type journalScan struct {
	snapMeta    uint64 // the newest snapshot mark
	hasSnapMeta bool
	snapStream  uint64 // the newest stream position a snapshot mark names
	batches     []batchSpan
	parts       [][][]byte // each batch's record values
	end         int64      // where the whole records end
	torn        *frameError
}

// scanJournal checks every record of data, the journal at path, and
// groups the batch records into batches. The file ending inside a record,
// or between the parts of a batch, is a torn tail (scan.torn, from
// scan.end on); any other damage is a *DamageError.
func scanJournal(path string, data []byte) (journalScan, error) {
	if !hasMagic(data) {
		return journalScan{}, &DamageError{File: path, Reason: fmt.Sprintf("no %q header (%d bytes)", journalMagic[:15], len(data))}
	}
	var sc journalScan
	off := int64(len(journalMagic))
	var open *batchSpan // the batch whose parts are being read
	var openParts [][]byte
	var stream *frame // a stream record waiting for its batch
	var streamPos uint64
	for off < int64(len(data)) {
		f, fe := readFrame(data, off)
		if fe != nil && fe.torn {
			sc.torn = fe
			break
		}
		if fe != nil {
			return journalScan{}, damage(path, fe)
		}
		switch f.kind {
		case kindSnap:
			v, err := markStream(f.value)
			if open != nil || stream != nil || err != nil {
				return journalScan{}, damage(path, &frameError{off: off, seq: f.seq, reason: "misplaced snapshot mark"})
			}
			sc.snapMeta, sc.hasSnapMeta, sc.snapStream = f.seq, true, max(sc.snapStream, v)
		case kindStream:
			v, err := markStream(f.value)
			if open != nil || stream != nil || err != nil || v == 0 {
				return journalScan{}, damage(path, &frameError{off: off, seq: f.seq, reason: "misplaced stream record"})
			}
			stream, streamPos = &f, v
		case kindBatch:
			part, parts, err := peekParts(f.value)
			if err == nil {
				err = checkPart(sc.batches, open, f.seq, part)
			}
			if err == nil && stream != nil && stream.seq != f.seq {
				err = fmt.Errorf("stream record of batch %d before batch %d", stream.seq, f.seq)
			}
			if err != nil {
				return journalScan{}, damage(path, &frameError{off: off, seq: f.seq, reason: err.Error()})
			}
			if open == nil {
				open = &batchSpan{seq: f.seq, off: off}
				if stream != nil {
					open.off, open.stream, stream = stream.off, streamPos, nil
				}
			}
			openParts = append(openParts, f.value)
			if len(openParts) == parts {
				open.end = off + f.size
				sc.batches, sc.parts = append(sc.batches, *open), append(sc.parts, openParts)
				open, openParts = nil, nil
			}
		}
		off += f.size
	}
	if open == nil && stream != nil {
		// The file ends between a batch's stream record and the batch.
		open = &batchSpan{seq: stream.seq, off: stream.off}
	}
	if open != nil {
		// The file ends between the parts of a batch.
		sc.torn = &frameError{off: open.off, seq: open.seq, torn: true,
			reason: fmt.Sprintf("file ends after %d parts of a batch", len(openParts))}
	}
	sc.end = off
	if sc.torn != nil {
		sc.end = sc.torn.off
	}
	return sc, nil
}

// peekParts reads the part number and part count a batch value starts
// with.
func peekParts(v []byte) (part, parts int, err error) {
	r := valueReader{b: v}
	pt, pts := r.uvarint(), r.uvarint()
	if r.err == nil && (pts == 0 || pt >= pts || pts > maxBody) {
		r.fail(fmt.Errorf("part %d of %d", pt, pts))
	}
	return int(pt), int(pts), r.err
}

// checkPart reports whether part of batch seq may follow the batches
// done and the batch open.
func checkPart(done []batchSpan, open *batchSpan, seq uint64, part int) error {
	switch {
	case open != nil && (seq != open.seq || part == 0):
		return fmt.Errorf("batch %d part %d inside batch %d", seq, part, open.seq)
	case open == nil && part != 0:
		return fmt.Errorf("batch %d starts at part %d", seq, part)
	case open == nil && len(done) > 0 && seq <= done[len(done)-1].seq:
		return fmt.Errorf("batch %d after batch %d", seq, done[len(done)-1].seq)
	}
	return nil
}

// writeJournalFile writes a new journal file at path: the header, a
// snapshot mark for snap when hasSnap, then tail (whole records), synced.
func writeJournalFile(path string, snap uint64, hasSnap bool, tail io.Reader) error {
	return writeJournalFileAt(path, journalHead(snap, hasSnap, 0), tail)
}

// journalHead returns a journal file's header and, when hasSnap, the
// snapshot mark of snap naming the stream position stream.
func journalHead(snap uint64, hasSnap bool, stream uint64) []byte {
	b := []byte(journalMagic)
	if hasSnap {
		b = appendFrame(b, kindSnap, snap, markValue(stream))
	}
	return b
}

// writeJournalFileAt writes a new journal file at path: head (from
// journalHead), then tail (whole records), synced.
func writeJournalFileAt(path string, head []byte, tail io.Reader) error {
	b := head
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil && tail != nil {
		_, err = io.Copy(f, tail)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// appendJournal makes one attempt at appending records (whole) to the
// journal file; a failed attempt leaves the file as it was. The caller
// holds s.mu.
func (s *Store) appendJournal(records []byte) error {
	if s.opts.writeFault != nil {
		if err := s.opts.writeFault(); err != nil {
			return err
		}
	}
	s.fileMu.Lock()
	defer s.fileMu.Unlock()
	if _, err := s.syncF.WriteAt(records, s.jsize); err != nil {
		if terr := s.syncF.Truncate(s.jsize); terr != nil {
			err = errors.Join(err, terr)
		}
		return err
	}
	s.jsize += int64(len(records))
	s.dirty = true
	return nil
}

// keepAside copies the journal file at path next to it as
// journal.db.damaged-<UTC time>, synced, before anything drops a record
// of it, and returns the copy's path.
func keepAside(path string) (string, error) {
	aside := path + ".damaged-" + time.Now().UTC().Format("20060102T150405.000000000Z")
	in, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer in.Close()
	if err := copyFile(aside, in); err != nil {
		return "", fmt.Errorf("keep %s aside: %w", path, err)
	}
	return aside, syncDir(filepath.Dir(path))
}

// copyFile writes what r holds as a new file at path, synced.
func copyFile(path string, r io.Reader) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// shrink rewrites the journal file with the batches after the snapshot
// of s.snapSeq alone, behind a snapshot mark: a temporary file that is
// synced and renamed over the journal. The caller holds s.mu. A failure
// after the rename starts fails the store; the files on disk (either
// journal) stay valid.
func (s *Store) shrink() error {
	path := s.journalPath()
	tmp := filepath.Join(s.dir, shrinkName)
	keep := s.spans
	for len(keep) > 0 && keep[0].seq <= s.snapSeq {
		keep = keep[1:]
	}
	from, to := s.jsize, s.jsize
	if len(keep) > 0 {
		from, to = keep[0].off, keep[len(keep)-1].end
	}
	head := journalHead(s.snapSeq, true, s.streamAt(s.snapSeq))
	if err := writeJournalFileAt(tmp, head, io.NewSectionReader(s.syncF, from, to-from)); err != nil {
		return fmt.Errorf("journal %s: shrink: %w", path, err)
	}
	fail := func(err error) error {
		err = fmt.Errorf("journal %s: shrink: %w", path, err)
		s.failed = err
		return err
	}
	s.at("shrink-written")
	if err := os.Rename(tmp, path); err != nil {
		return fail(err)
	}
	s.at("shrink-renamed")
	if err := syncDir(s.dir); err != nil {
		return fail(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fail(err)
	}
	hsize := int64(len(head))
	spans := make([]batchSpan, len(keep))
	for i, b := range keep {
		b.off, b.end = b.off-from+hsize, b.end-from+hsize
		spans[i] = b
	}
	s.fileMu.Lock()
	s.syncF.Close()
	s.syncF, s.dirty, s.jsize = f, false, hsize+to-from
	s.fileMu.Unlock()
	s.spans = spans
	return nil
}

func putDigits(b []byte, v uint64) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
}

// syncDir syncs a directory so that renames and removals in it last.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if errors.Is(err, syscall.EINVAL) { // file systems that cannot sync a directory
		err = nil
	}
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
