package store

import (
	"context"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/procq/procq/engine"
	"github.com/procq/procq/record"
)

// Op is one change to the data: exactly one of its fields is set.
type Op struct {
	// Upsert adds the record, or replaces the one with its bk_process_id.
	Upsert *record.Record
	// Delete, when positive, removes the process with this bk_process_id.
	Delete int64
	// Status sets a process's process_status and is_auto, and its
	// proc_inst_infos when SetProcInstInfos is true.
	Status *record.StatusUpdate
}

// Result describes a batch Apply took.
type Result struct {
	// Seq numbers the batch in the journal; when the batch changed
	// nothing it is the number of the batch before, and nothing was
	// written.
	Seq uint64
	// Version is the version of the engine that holds the batch.
	Version uint64
	// Changed is the number of processes the batch changed.
	Changed int
	// Missing lists the bk_process_ids of deletes and status updates that
	// named no process (when they came in the batch); they were skipped.
	Missing []int64
}

// Apply applies ops, in order, as one batch: queries see all of it or
// none of it, and when Apply returns nil the batch is in the journal
// (synced as the SyncPolicy says). A later op on the same process sees
// the earlier ones; the last one decides. An invalid op (ErrInvalidOp)
// fails the whole batch before anything is applied; so does ctx ending
// before the batch is written. A journal write that fails (a full disk,
// an I/O error) is tried again a few times with growing pauses (see
// writeAttempts) before Apply fails with its error, the data unchanged.
// Records given to Upsert are copied.
//
// Upserts and deletes cost what they change: they join the engine's
// small delta (see engine.Engine.WithChanges), which a background merge
// folds into the indexes once it grows (see merger); a batch of status
// updates patches only the chunks of the status columns it touches.
func (s *Store) Apply(ctx context.Context, ops []Op) (Result, error) {
	return s.apply(ctx, ops, 0)
}

// apply is Apply; a stream position other than 0 is journaled with the
// batch (see ApplyStream), even when the batch changes nothing.
func (s *Store) apply(ctx context.Context, ops []Op, stream uint64) (Result, error) {
	ops, err := checkOps(ops)
	if err != nil {
		return Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writable(); err != nil {
		return Result{}, err
	}
	if err := s.checkStream(stream); err != nil {
		return Result{}, err
	}
	cur := s.live.Load()
	b := fold(cur, ops)
	res := Result{Seq: s.seq, Version: cur.Version(), Missing: b.missing}
	if len(b.topo) == 0 && len(b.status) == 0 {
		if stream != 0 {
			return s.recordStream(ctx, res, stream)
		}
		return res, nil
	}
	// One batch value is both what the engine applies and what the
	// journal records.
	jb := batchOf(b.topo, b.status)
	jb.stream = stream
	next, err := jb.apply(cur)
	if err != nil {
		return Result{}, fmt.Errorf("apply: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}

	seq := s.seq + 1
	if err := s.writeBatch(ctx, seq, jb); err != nil {
		return Result{}, err
	}
	s.seq = seq
	s.live.Store(next)
	s.published(next, jb)
	s.maybeCheckpoint()
	res.Seq, res.Version, res.Changed = seq, next.Version(), jb.len()
	return res, nil
}

// Journal write retries: a write that fails (ENOSPC, EIO) is tried
// writeAttempts times in all, the pause between two attempts starting at
// writeRetryWait and doubling, so a full or failing disk costs a few
// attempts a second, not a busy loop. A failed write leaves nothing behind
// (appendJournal cuts the file back), so the next attempt starts clean.
const (
	writeAttempts  = 4
	writeRetryWait = 50 * time.Millisecond
)

// writeBatch appends batch seq to the journal as one record (or one per
// maxPart bytes), trying again after a pause when the write fails (see
// writeAttempts) while ctx lasts, and syncs it as the policy says. The
// caller holds s.mu.
func (s *Store) writeBatch(ctx context.Context, seq uint64, b *journalBatch) error {
	records := encodeBatch(seq, b)
	wait := writeRetryWait
	if s.opts.retryWait > 0 {
		wait = s.opts.retryWait
	}
	off := s.journalSize()
	for attempt := 1; ; attempt++ {
		err := s.appendJournal(records)
		if err == nil {
			break
		}
		if attempt == writeAttempts {
			return fmt.Errorf("journal %s: write failed %d times: %w", s.journalPath(), attempt, err)
		}
		s.log.Warn("journal write failed; trying again", "dir", s.dir, "attempt", attempt, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("journal %s: write: %w (and then %w)", s.journalPath(), err, ctx.Err())
		case <-t.C:
		}
		wait *= 2
	}
	s.at("batch-written")
	s.spans = append(s.spans, batchSpan{seq: seq, off: off, end: off + int64(len(records)), changes: b.len(), stream: b.stream})
	if s.opts.Sync == SyncAlways {
		return s.syncJournal()
	}
	return nil
}

// writable reports why the store cannot take a write. The caller holds
// s.mu.
func (s *Store) writable() error {
	if s.closed {
		return ErrClosed
	}
	if s.failed != nil {
		return fmt.Errorf("%w: %w", ErrFailed, s.failed)
	}
	return nil
}

// Upsert adds recs, replacing the records with the same bk_process_id, as
// one batch (see Apply).
func (s *Store) Upsert(ctx context.Context, recs []*record.Record) (Result, error) {
	ops := make([]Op, len(recs))
	for i, r := range recs {
		ops[i].Upsert = r
	}
	return s.Apply(ctx, ops)
}

// Delete removes the processes with these bk_process_ids as one batch
// (see Apply); ids naming no process are listed in Result.Missing.
func (s *Store) Delete(ctx context.Context, ids []int64) (Result, error) {
	ops := make([]Op, len(ids))
	for i, id := range ids {
		ops[i].Delete = id
	}
	return s.Apply(ctx, ops)
}

// ApplyStatus applies status updates as one batch (see Apply); updates
// naming no process are listed in Result.Missing.
func (s *Store) ApplyStatus(ctx context.Context, ups []record.StatusUpdate) (Result, error) {
	ops := make([]Op, len(ups))
	for i := range ups {
		ops[i].Status = &ups[i]
	}
	return s.Apply(ctx, ops)
}

// checkOps validates ops and returns them with the records copied.
func checkOps(ops []Op) ([]Op, error) {
	out := make([]Op, len(ops))
	for i, op := range ops {
		n := 0
		if op.Upsert != nil {
			n++
		}
		if op.Delete != 0 {
			n++
		}
		if op.Status != nil {
			n++
		}
		if n != 1 {
			return nil, fmt.Errorf("%w: op %d: want exactly one of upsert, delete and status, got %d", ErrInvalidOp, i, n)
		}
		switch {
		case op.Upsert != nil:
			if err := checkRecord(op.Upsert); err != nil {
				return nil, fmt.Errorf("%w: op %d: upsert: %w", ErrInvalidOp, i, err)
			}
			out[i].Upsert = cloneRecord(op.Upsert)
		case op.Delete < 0:
			return nil, fmt.Errorf("%w: op %d: delete: bk_process_id must be > 0, got %d", ErrInvalidOp, i, op.Delete)
		case op.Delete > 0:
			out[i].Delete = op.Delete
		default:
			if op.Status.ProcessID <= 0 {
				return nil, fmt.Errorf("%w: op %d: status: bk_process_id must be > 0, got %d", ErrInvalidOp, i, op.Status.ProcessID)
			}
			u := *op.Status
			u.ProcInstInfos = slices.Clone(u.ProcInstInfos)
			out[i].Status = &u
		}
	}
	return out, nil
}

// checkRecord rejects a record that fails record.Check (as an import or
// a snapshot load would), and what the journal could not give back
// unchanged: text that is not UTF-8 (the record's JSON would replace it).
func checkRecord(r *record.Record) error {
	if err := r.Check(); err != nil {
		return err
	}
	strs := []struct{ name, v string }{
		{"expression", r.Expression}, {"bk_host_innerip", r.InnerIP}, {"bk_host_innerip_v6", r.InnerIPv6},
		{"bk_agent_id", r.AgentID}, {"bk_cloud_name", r.CloudName}, {"bk_set_env", r.SetEnv},
		{"bk_set_name", r.SetName}, {"bk_module_name", r.ModuleName}, {"bk_service_name", r.ServiceName},
		{"bk_process_name", r.ProcessName},
	}
	for _, c := range r.ConfigTemplates {
		strs = append(strs, struct{ name, v string }{"config_templates.template_name", c.TemplateName},
			struct{ name, v string }{"config_templates.file_name", c.FileName})
	}
	for _, f := range strs {
		if !utf8.ValidString(f.v) {
			return fmt.Errorf("bk_process_id %d: %s is not valid UTF-8", r.ProcessID, f.name)
		}
	}
	return nil
}

func cloneRecord(r *record.Record) *record.Record {
	c := *r
	c.ConfigTemplates = slices.Clone(r.ConfigTemplates)
	c.ProcInstInfos = slices.Clone(r.ProcInstInfos)
	return &c
}

// batch is a list of ops reduced to each process's final change.
type batch struct {
	// topo holds each upserted process's final record, nil when the
	// process is deleted.
	topo map[int64]*record.Record
	// status holds the combined status update of each process that only
	// status updates touch.
	status  map[int64]record.StatusUpdate
	missing []int64
}

// fold reduces ops, applied in order to the data of cur, to one change
// per process.
func fold(cur *engine.Engine, ops []Op) batch {
	b := batch{topo: make(map[int64]*record.Record), status: make(map[int64]record.StatusUpdate)}
	// Status updates of processes the batch has not upserted are checked
	// against cur all at once at the end (cur.Absent): until then their
	// ids stand in b.missing at the places they would be reported, marked
	// in provisional.
	var provisional []int
	for _, op := range ops {
		switch {
		case op.Upsert != nil:
			pid := op.Upsert.ProcessID
			b.topo[pid] = op.Upsert
			delete(b.status, pid)
		case op.Delete > 0:
			pid := op.Delete
			r, inBatch := b.topo[pid]
			_, inCur := cur.Record(pid)
			if (inBatch && r == nil) || (!inBatch && !inCur) {
				b.missing = append(b.missing, pid)
				continue
			}
			b.topo[pid] = nil
			delete(b.status, pid)
		default:
			u := *op.Status
			pid := u.ProcessID
			if r, ok := b.topo[pid]; ok {
				if r == nil {
					b.missing = append(b.missing, pid)
					continue
				}
				c := *r
				c.ProcessStatus, c.IsAuto = u.ProcessStatus, u.IsAuto
				if u.SetProcInstInfos {
					c.ProcInstInfos = u.ProcInstInfos
				}
				b.topo[pid] = &c
				continue
			}
			provisional = append(provisional, len(b.missing))
			b.missing = append(b.missing, pid)
			if prev, ok := b.status[pid]; ok && !u.SetProcInstInfos {
				u.ProcInstInfos, u.SetProcInstInfos = prev.ProcInstInfos, prev.SetProcInstInfos
			}
			b.status[pid] = u
		}
	}
	b.settleStatus(cur, provisional)
	// A process upserted and deleted within the batch, and absent before
	// it, needs no tombstone.
	for pid, r := range b.topo {
		if r == nil {
			if _, ok := cur.Record(pid); !ok {
				delete(b.topo, pid)
			}
		}
	}
	return b
}

// settleStatus looks up in cur the processes of the status updates whose
// ids stand at the provisional places of b.missing: an update of a process
// cur holds is dropped from missing, one of a process cur lacks from
// b.status.
func (b *batch) settleStatus(cur *engine.Engine, provisional []int) {
	if len(provisional) == 0 {
		return
	}
	pids := make([]int64, len(provisional))
	for i, at := range provisional {
		pids[i] = b.missing[at]
	}
	absent := cur.Absent(pids)
	kept := b.missing[:0]
	next := 0
	for i, pid := range b.missing {
		if next < len(provisional) && provisional[next] == i {
			next++
			if !absent[pid] {
				continue
			}
		}
		kept = append(kept, pid)
	}
	b.missing = kept
	for pid := range absent {
		delete(b.status, pid)
	}
}

// batchOf returns the batch of one change per process: topo holds each
// upserted process's record, nil when deleted; status the status updates
// of the others.
func batchOf(topo map[int64]*record.Record, status map[int64]record.StatusUpdate) *journalBatch {
	var jb journalBatch
	for pid, r := range topo {
		if r == nil {
			jb.dels = append(jb.dels, pid)
		} else {
			jb.ups = append(jb.ups, r)
		}
	}
	jb.status = make([]record.StatusUpdate, 0, len(status))
	for _, u := range status {
		jb.status = append(jb.status, u)
	}
	return &jb
}
