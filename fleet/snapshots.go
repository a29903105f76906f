package fleet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/procq/procq/record"
	"github.com/procq/procq/snapshot"
	"github.com/procq/procq/store"
)

// The snapshot object and its metadata.
const (
	// SnapshotObject is the name of the newest snapshot in the bucket.
	SnapshotObject = "snapshot"
	// MetaStreamSeq is the metadata key of the stream sequence the
	// snapshot covers.
	MetaStreamSeq = "procq-stream-seq"
)

// SnapshotInfo describes the bucket's snapshot.
type SnapshotInfo struct {
	// StreamSeq is the stream sequence it covers; Bytes its size.
	StreamSeq uint64
	Bytes     uint64
	Modified  time.Time
}

// Snapshot describes the bucket's snapshot; ok is false when there is
// none.
func (c *Conn) Snapshot(ctx context.Context) (info SnapshotInfo, ok bool, err error) {
	oi, err := c.obs.GetInfo(ctx, SnapshotObject)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return info, false, nil
	}
	if err != nil {
		return info, false, fmt.Errorf("object store %s: %w", c.opts.Bucket, err)
	}
	seq, err := strconv.ParseUint(oi.Metadata[MetaStreamSeq], 10, 64)
	if err != nil {
		return info, false, fmt.Errorf("object store %s: %s: metadata %s: %w", c.opts.Bucket, SnapshotObject, MetaStreamSeq, err)
	}
	return SnapshotInfo{StreamSeq: seq, Bytes: oi.Size, Modified: oi.ModTime}, true, nil
}

// PublishSnapshot uploads the snapshot file at path, covering the stream
// up to streamSeq, as the bucket's snapshot, unless the one there covers
// at least as much (uploaded is then false). The file is read whole
// first to check it is a snapshot.
func (c *Conn) PublishSnapshot(ctx context.Context, path string, streamSeq uint64) (uploaded bool, err error) {
	if _, err := snapshot.Read(path, func(*record.Record) error { return nil }); err != nil {
		return false, err
	}
	cur, ok, err := c.Snapshot(ctx)
	if err != nil {
		return false, err
	}
	if ok && cur.StreamSeq > streamSeq {
		return false, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	_, err = c.obs.Put(ctx, jetstream.ObjectMeta{
		Name:        SnapshotObject,
		Description: "procq snapshot covering stream sequence " + strconv.FormatUint(streamSeq, 10),
		Metadata:    map[string]string{MetaStreamSeq: strconv.FormatUint(streamSeq, 10)},
	}, f)
	if err != nil {
		return false, fmt.Errorf("object store %s: put %s: %w", c.opts.Bucket, SnapshotObject, err)
	}
	return true, nil
}

// maybeUpload uploads the store's snapshot, in the background, when it is
// newer than the last one uploaded and the replica publishes its
// checkpoints.
func (f *Follower) maybeUpload() {
	if !f.opts.PublishCheckpoints {
		return
	}
	path, seq, stream, err := f.st.SnapshotStream()
	if err != nil || path == "" || seq == f.uploaded.Load() || !f.uploading.CompareAndSwap(false, true) {
		return
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		defer f.uploading.Store(false)
		ctx, cancel := context.WithTimeout(f.ctx, 10*time.Minute)
		defer cancel()
		if _, err := f.c.PublishSnapshot(ctx, path, stream); err != nil {
			f.c.log.Warn("checkpoint not uploaded", "snapshot", path, "stream_seq", stream, "err", err)
			return
		}
		f.uploaded.Store(seq)
		f.c.log.Info("checkpoint uploaded", "bucket", f.c.opts.Bucket, "stream_seq", stream)
	}()
}

// Prepare makes dir ready to follow the stream: when it is missing or
// empty, or its journal stops before the first message the stream still
// holds, it becomes a data directory holding the bucket's snapshot (of
// the businesses biz only, when given), positioned at the stream sequence
// the snapshot covers; a directory that was behind is kept aside as
// DIR.behind-<UTC time>. With no snapshot in the bucket an empty dir
// starts with no records, from the stream's start. It returns whether it
// restored a snapshot.
func (c *Conn) Prepare(ctx context.Context, dir string, biz []int64) (bool, error) {
	empty, err := isEmpty(dir)
	if err != nil {
		return false, err
	}
	snap, haveSnap, err := c.Snapshot(ctx)
	if err != nil {
		return false, err
	}
	if !empty {
		behind, err := c.behind(ctx, dir)
		if err != nil || behind == 0 {
			return false, err
		}
		if !haveSnap || snap.StreamSeq+1 < behind {
			return false, fmt.Errorf("data dir %s: %w: the stream starts at %d", dir, ErrBehind, behind)
		}
		aside := dir + ".behind-" + time.Now().UTC().Format("20060102T150405Z")
		if err := os.Rename(dir, aside); err != nil {
			return false, fmt.Errorf("data dir %s: %w", dir, err)
		}
		c.log.Warn("data dir behind the stream: kept aside, restoring the snapshot", "dir", dir, "aside", aside, "stream_first", behind)
	}
	if !haveSnap {
		return false, store.Init(dir, "")
	}
	return true, c.restore(ctx, dir, snap.StreamSeq, biz)
}

// behind returns the stream's first sequence when dir's journal stops
// before it (messages it needs are gone), 0 otherwise.
func (c *Conn) behind(ctx context.Context, dir string) (uint64, error) {
	pos, err := store.DirStreamSeq(dir)
	if err != nil {
		return 0, err
	}
	s, err := c.js.Stream(ctx, c.opts.Stream)
	if err != nil {
		return 0, fmt.Errorf("stream %s: %w", c.opts.Stream, err)
	}
	first := s.CachedInfo().State.FirstSeq
	if s.CachedInfo().State.Msgs == 0 {
		first = s.CachedInfo().State.LastSeq + 1
	}
	if pos+1 >= first {
		return 0, nil
	}
	return first, nil
}

// restore downloads the bucket's snapshot next to dir, keeps the
// businesses biz of it (all when empty), and makes dir a data directory
// holding it at stream position streamSeq.
func (c *Conn) restore(ctx context.Context, dir string, streamSeq uint64, biz []int64) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dir), ".procq-restore-*.snap")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	start := time.Now()
	err = c.obs.GetFile(ctx, SnapshotObject, tmp.Name())
	tmp.Close()
	if err != nil {
		return fmt.Errorf("object store %s: get %s: %w", c.opts.Bucket, SnapshotObject, err)
	}
	downloaded := time.Since(start)
	defer func() {
		c.log.Info("snapshot restored", "dir", dir, "stream_seq", streamSeq, seconds("download", downloaded),
			seconds("duration", time.Since(start)))
	}()
	from := tmp.Name()
	if len(biz) > 0 {
		if from, err = keepBiz(from, biz); err != nil {
			return err
		}
		defer os.Remove(from)
	}
	if err := store.InitContext(ctx, dir, from); err != nil {
		return err
	}
	if streamSeq == 0 {
		return nil
	}
	st, err := store.OpenContext(ctx, dir, store.Options{CheckpointBytes: -1})
	if err != nil {
		return err
	}
	_, err = st.ApplyStream(ctx, nil, streamSeq)
	return errors.Join(err, st.Close())
}

// keepBiz writes the records of the snapshot at path whose business is
// in biz as a snapshot next to it and returns its path.
func keepBiz(path string, biz []int64) (string, error) {
	out := path + ".biz"
	w, err := snapshot.Create(out)
	if err != nil {
		return "", err
	}
	_, err = snapshot.Read(path, func(r *record.Record) error {
		if !slices.Contains(biz, r.BizID) {
			return nil
		}
		return w.Append(r)
	})
	if err != nil {
		return "", errors.Join(err, w.Abort())
	}
	return out, w.Commit()
}

// isEmpty reports whether dir is missing or holds nothing.
func isEmpty(dir string) (bool, error) {
	f, err := os.Open(dir)
	if errors.Is(err, os.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	_, err = f.Readdirnames(1)
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	return false, err
}

// seconds is a duration attribute in float seconds, as the server logs
// them.
func seconds(key string, d time.Duration) slog.Attr { return slog.Float64(key+"_seconds", d.Seconds()) }
