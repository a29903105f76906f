package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// # Stream positions
//
// A store fed by an ordered log of batches (a replica of a fleet, package
// fleet, fed by a JetStream stream) journals, with each batch, the
// position in that log the batch brings it to: ApplyStream. The position
// is a kindStream record written right before the batch's first part, in
// the same write, so a crash leaves both or neither (a torn tail drops
// them together). A checkpoint's snapshot mark carries the position its
// snapshot covers, so that a journal trimmed of every batch still knows
// it. StreamSeq reads the newest position back after a restart, and the
// feeder resumes right after it: nothing is lost, nothing applied twice.
// Journals written before stream positions existed hold none: their
// position is 0. A journal holding stream records is refused by procq
// versions older than them (an unknown record kind), as damage is.

// ApplyStream applies ops as one batch, as Apply does, and journals with
// it the stream position stream (> 0) it brings the store to; a batch
// that changes nothing is journaled too, for its position. A position not
// after StreamSeq fails with ErrInvalidOp and applies nothing.
func (s *Store) ApplyStream(ctx context.Context, ops []Op, stream uint64) (Result, error) {
	if stream == 0 {
		return Result{}, fmt.Errorf("%w: stream position 0", ErrInvalidOp)
	}
	return s.apply(ctx, ops, stream)
}

// StreamSeq returns the newest stream position journaled (see
// ApplyStream), 0 when there is none.
func (s *Store) StreamSeq() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.streamAfter(s.seq)
}

// SnapshotStream describes the store's snapshot: its path ("" when there
// is none), the last batch it covers and the stream position it covers.
func (s *Store) SnapshotStream() (path string, seq, stream uint64, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	stream, err = s.streamAfter(s.snapSeq)
	return s.snap, s.snapSeq, stream, err
}

// DirStreamSeq returns the newest stream position the journal of the
// data directory dir holds, without opening it (it may be open
// elsewhere): what StreamSeq would say after Open. A format 1 journal
// holds none.
func DirStreamSeq(dir string) (uint64, error) {
	path := filepath.Join(dir, journalName)
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("journal %s: %w", path, err)
	}
	if len(data) > 0 && data[0] == '*' {
		return 0, nil
	}
	sc, err := scanJournal(path, data)
	if err != nil {
		return 0, err
	}
	pos := sc.snapStream
	for _, b := range sc.batches {
		pos = max(pos, b.stream)
	}
	return pos, nil
}

// streamAfter returns the stream position once batch seq is applied: that
// of the newest batch up to seq that has one, else the one the journal's
// snapshot mark names. The caller holds s.mu.
func (s *Store) streamAfter(seq uint64) (uint64, error) {
	for i := len(s.spans) - 1; i >= 0; i-- {
		if b := s.spans[i]; b.seq <= seq && b.stream != 0 {
			return b.stream, nil
		}
	}
	return s.headStream()
}

// streamAt is streamAfter for a shrink, which has no way to report an
// error but to fail: a head it cannot read names position 0, and the
// feeder then replays from the start (every op sets a value).
func (s *Store) streamAt(seq uint64) uint64 {
	v, err := s.streamAfter(seq)
	if err != nil {
		s.log.Warn("journal: stream position of the snapshot not read; it is kept as 0", "dir", s.dir, "err", err)
	}
	return v
}

// headStream reads the stream position of the snapshot mark at the head
// of the journal file, 0 when there is no mark or it names none.
func (s *Store) headStream() (uint64, error) {
	s.fileMu.Lock()
	defer s.fileMu.Unlock()
	if s.syncF == nil {
		return 0, ErrClosed
	}
	buf := make([]byte, min(s.jsize, int64(len(journalMagic)+frameHeader+keySize+binary.MaxVarintLen64)))
	n, err := s.syncF.ReadAt(buf, 0)
	if err != nil && n < len(buf) {
		return 0, fmt.Errorf("journal %s: %w", s.journalPath(), err)
	}
	if !hasMagic(buf) || len(buf) <= len(journalMagic)+frameHeader {
		return 0, nil
	}
	// The head frame may be read only in part: its length says how much.
	h := buf[len(journalMagic):]
	if h[frameHeader] != kindSnap {
		return 0, nil
	}
	size := frameHeader + int(binary.LittleEndian.Uint32(h))
	if size > len(h) {
		return 0, fmt.Errorf("journal %s: snapshot mark of %d bytes", s.journalPath(), size)
	}
	f, fe := readFrame(h[:size], 0)
	if fe != nil {
		return 0, fmt.Errorf("journal %s: snapshot mark: %s", s.journalPath(), fe.reason)
	}
	return markStream(f.value)
}

// checkStream refuses a stream position not after the newest one
// journaled. The caller holds s.mu.
func (s *Store) checkStream(stream uint64) error {
	if stream == 0 {
		return nil
	}
	cur, err := s.streamAfter(s.seq)
	if err != nil {
		return err
	}
	if stream <= cur {
		return fmt.Errorf("%w: stream position %d is not after %d, the store's", ErrInvalidOp, stream, cur)
	}
	return nil
}

// recordStream journals a batch that changes nothing but the stream
// position. The caller holds s.mu.
func (s *Store) recordStream(ctx context.Context, res Result, stream uint64) (Result, error) {
	seq := s.seq + 1
	if err := s.writeBatch(ctx, seq, &journalBatch{stream: stream}); err != nil {
		return Result{}, err
	}
	s.seq, res.Seq = seq, seq
	return res, nil
}

// markValue is the value of a snapshot mark naming stream position
// stream: none for 0, as marks were before stream positions.
func markValue(stream uint64) []byte {
	if stream == 0 {
		return nil
	}
	return binary.AppendUvarint(nil, stream)
}

// markStream reads a snapshot mark's value.
func markStream(v []byte) (uint64, error) {
	if len(v) == 0 {
		return 0, nil
	}
	x, n := binary.Uvarint(v)
	if n != len(v) {
		return 0, errors.New("snapshot mark value is not one varint")
	}
	return x, nil
}
