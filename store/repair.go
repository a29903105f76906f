package store

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/procq/procq/snapshot"
)

// RepairReport says what Repair found in a journal, kept and dropped.
type RepairReport struct {
	// Journal is the journal's path; KeptAside where the damaged file was
	// kept, "" when nothing was dropped and the journal was left alone.
	Journal, KeptAside string
	// Kept are the seqs of the batches kept, in order.
	Kept []uint64
	// Dropped are the byte ranges of the damaged file that were not
	// kept: damaged records, and the batches they belonged to.
	Dropped []DroppedRange
	// SnapshotMark is the newest snapshot mark kept, when HasSnapshotMark.
	SnapshotMark    uint64
	HasSnapshotMark bool
}

// DroppedRange is a part of a damaged journal that Repair dropped.
type DroppedRange struct {
	Offset, Bytes int64
	Seq           uint64 // the batch, 0 when unknown
	Reason        string
}

// Repair salvages every valid batch of the journal of the data directory
// dir: it reads every record whose checks pass (finding the next one
// after damage by its header checksum), keeps each batch whose records
// are all there, in seq order, and drops the rest. When it drops
// anything, the damaged file is kept aside (journal.db.damaged-<time>)
// before a journal of the kept batches takes its place. Open may still
// refuse the result when a kept batch changes a process that only a
// dropped one added. The directory must not be open elsewhere
// (ErrLocked).
func Repair(dir string) (RepairReport, error) {
	lock, err := lockDir(dir)
	if err != nil {
		return RepairReport{}, err
	}
	defer unlockDir(lock)
	path := filepath.Join(dir, journalName)
	rep := RepairReport{Journal: path}
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return rep, fmt.Errorf("data dir %s: %w", dir, ErrNotInitialized)
	case err != nil:
		return rep, fmt.Errorf("journal %s: %w", path, err)
	}
	if err := snapshot.CheckRegular(st); err != nil {
		return rep, fmt.Errorf("journal %s: %w", path, err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return rep, fmt.Errorf("journal %s: %w", path, err)
	}
	if len(data) > 0 && data[0] == '*' {
		return rep, fmt.Errorf("journal %s: format 1 (buntdb): Open reads and converts it; repair reads format 2", path)
	}
	records := salvage(data, &rep)
	if len(rep.Dropped) == 0 {
		return rep, nil
	}
	if rep.KeptAside, err = keepAside(path); err != nil {
		return rep, fmt.Errorf("journal %s: %w", path, err)
	}
	tmp := filepath.Join(dir, shrinkName)
	if err := writeJournalFile(tmp, rep.SnapshotMark, rep.HasSnapshotMark, bytes.NewReader(records)); err != nil {
		return rep, fmt.Errorf("journal %s: repair: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return rep, fmt.Errorf("journal %s: repair: %w", path, err)
	}
	return rep, syncDir(dir)
}

// salvage reads what it can of data, a damaged journal, noting in rep
// what it keeps and drops, and returns the kept batches' records.
func salvage(data []byte, rep *RepairReport) []byte {
	off := int64(0)
	if hasMagic(data) {
		off = int64(len(journalMagic))
	}
	var out []byte
	var open []frame // the parts of the batch being read
	var stream frame // the last stream record read
	drop := func(off, end int64, seq uint64, reason string) {
		rep.Dropped = append(rep.Dropped, DroppedRange{Offset: off, Bytes: end - off, Seq: seq, Reason: reason})
	}
	dropOpen := func(reason string) {
		if len(open) > 0 {
			last := open[len(open)-1]
			drop(open[0].off, last.off+last.size, open[0].seq, reason)
			open = nil
		}
	}
	if off == 0 && len(data) > 0 {
		next := resync(data, 0)
		drop(0, next, 0, "no journal header")
		off = next
	}
	for off < int64(len(data)) {
		f, fe := readFrame(data, off)
		if fe != nil {
			dropOpen("a part of it is damaged")
			next := resync(data, off+1)
			drop(off, next, fe.seq, fe.reason)
			off = next
			continue
		}
		off += f.size
		if f.kind == kindSnap {
			rep.SnapshotMark, rep.HasSnapshotMark = max(rep.SnapshotMark, f.seq), true
			continue
		}
		if f.kind == kindStream {
			stream = f // kept with its batch, when that is kept
			continue
		}
		part, parts, err := peekParts(f.value)
		if err == nil && len(open) > 0 && (f.seq != open[0].seq || part != len(open)) {
			dropOpen("its parts stop short")
		}
		if err == nil && len(open) == 0 && part != 0 {
			err = fmt.Errorf("part %d without the parts before it", part)
		}
		if err != nil {
			drop(f.off, f.off+f.size, f.seq, err.Error())
			continue
		}
		if open = append(open, f); len(open) < parts {
			continue
		}
		out = keepBatch(out, stream, open, rep, drop)
		open = nil
	}
	dropOpen("the file ends before its last part")
	return out
}

// keepBatch appends the records of the batch whose parts are given to
// out, when they decode and the batch comes after those kept, after its
// stream record when stream is that.
func keepBatch(out []byte, stream frame, parts []frame, rep *RepairReport, drop func(off, end int64, seq uint64, reason string)) []byte {
	seq, start, last := parts[0].seq, parts[0].off, parts[len(parts)-1]
	var b journalBatch
	for _, p := range parts {
		if _, _, err := decodeBatchPart(p.value, &b); err != nil {
			drop(start, last.off+last.size, seq, err.Error())
			return out
		}
	}
	if n := len(rep.Kept); n > 0 && seq <= rep.Kept[n-1] {
		drop(start, last.off+last.size, seq, fmt.Sprintf("batch %d after batch %d", seq, rep.Kept[n-1]))
		return out
	}
	if stream.kind == kindStream && stream.seq == seq {
		out = appendFrame(out, kindStream, seq, stream.value)
	}
	for _, p := range parts {
		out = appendFrame(out, kindBatch, p.seq, p.value)
	}
	rep.Kept = append(rep.Kept, seq)
	return out
}

// resync returns the offset of the first record at or after off whose
// checks pass, or the end of data.
func resync(data []byte, off int64) int64 {
	for ; off+frameHeader <= int64(len(data)); off++ {
		if _, fe := readFrame(data, off); fe == nil {
			return off
		}
	}
	return int64(len(data))
}
