package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/procq/procq/fleet"
	"github.com/procq/procq/server"
	"github.com/procq/procq/store"
)

// Usage lines of the fleet commands.
const (
	publishUsage         = "publish --nats URL --in CHANGES.jsonl [--stream NAME]"
	publishSnapshotUsage = "publish-snapshot --nats URL --snapshot FILE [--stream-seq N] [--bucket NAME]"
	serveFleetUsage      = "[--nats URL [--biz ID,...] [--publish-checkpoints] [--replica NAME] [--min-seq-wait DURATION]]"
)

// natsFlags are the flags naming a fleet's NATS, stream and bucket.
type natsFlags struct {
	url, stream, bucket *string
	replicas            *int
}

func addNATSFlags(fs *flag.FlagSet) *natsFlags {
	return &natsFlags{
		url:      fs.String("nats", "", "NATS server `URL` (comma-separated for a cluster) of the fleet's JetStream"),
		stream:   fs.String("stream", fleet.DefaultStream, "JetStream `NAME` of the change stream"),
		bucket:   fs.String("bucket", fleet.DefaultBucket, "JetStream object store `NAME` of the shared snapshots"),
		replicas: fs.Int("stream-replicas", 1, "`N` copies of the stream and bucket when they are made (3 on a cluster of three)"),
	}
}

// connect connects to the fleet's JetStream.
func (f *natsFlags) connect(ctx context.Context, log *slog.Logger) (*fleet.Conn, error) {
	return fleet.Connect(ctx, fleet.Options{URL: *f.url, Stream: *f.stream, Bucket: *f.bucket, Replicas: *f.replicas, Logger: log})
}

// with runs fn with a connection to the fleet until SIGINT or SIGTERM.
func (f *natsFlags) with(fn func(ctx context.Context, c *fleet.Conn) error) error {
	ctx, stop := signalContext()
	defer stop()
	c, err := f.connect(ctx, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(ctx, c)
}

// readChanges reads and checks a whole change file (see package store),
// "-" being stdin, and returns its ops and the name errors give it.
func readChanges(in string) ([]store.Op, string, error) {
	r, name, err := openIn(in)
	if err != nil {
		return nil, "", err
	}
	defer r.Close()
	ops, err := store.ParseOps(r, name)
	return ops, name, err
}

// runPublish publishes a file of changes to the fleet's stream.
func runPublish(args []string) error {
	fs := newFlags("publish")
	nf := addNATSFlags(fs)
	in := fs.String("in", "", "`FILE` of changes, one operation per line, \"-\" for stdin (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required("nats", *nf.url); err != nil {
		return err
	}
	if err := required("in", *in); err != nil {
		return err
	}
	ops, name, err := readChanges(*in)
	if err != nil {
		return err
	}
	return nf.with(func(ctx context.Context, c *fleet.Conn) error {
		start := time.Now()
		res, err := c.Publish(ctx, ops, nil)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "publish: %d operations from %s as %d messages up to stream sequence %d, in %s\n",
			len(ops), name, res.Messages, res.Seq, time.Since(start).Round(time.Millisecond))
		fmt.Fprintf(os.Stdout, "%d\n", res.Seq)
		return nil
	})
}

// runPublishSnapshot uploads a snapshot as the fleet's newest.
func runPublishSnapshot(args []string) error {
	fs := newFlags("publish-snapshot")
	nf := addNATSFlags(fs)
	snap := fs.String("snapshot", "", "snapshot `FILE` to upload (required)")
	seq := fs.Uint64("stream-seq", 0, "stream sequence `N` the snapshot covers: replicas restoring it apply the messages after it")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required("nats", *nf.url); err != nil {
		return err
	}
	if err := required("snapshot", *snap); err != nil {
		return err
	}
	return nf.with(func(ctx context.Context, c *fleet.Conn) error {
		start := time.Now()
		up, err := c.PublishSnapshot(ctx, *snap, *seq)
		if err != nil {
			return err
		}
		if !up {
			return fmt.Errorf("%s not uploaded: the bucket's snapshot covers more of the stream than --stream-seq %d", *snap, *seq)
		}
		fmt.Fprintf(os.Stderr, "publish-snapshot: %s uploaded to %s covering stream sequence %d, in %s\n",
			*snap, *nf.bucket, *seq, time.Since(start).Round(time.Millisecond))
		return nil
	})
}

// fleetFlags are serve's flags for following a fleet.
type fleetFlags struct {
	nats       *natsFlags
	biz        *string
	publishCk  *bool
	name       *string
	minSeqWait *time.Duration
}

func addFleetFlags(fs *flag.FlagSet) *fleetFlags {
	return &fleetFlags{
		nats:       addNATSFlags(fs),
		biz:        fs.String("biz", "", "with --nats, follow only these businesses: comma-separated bk_biz_id `LIST` (default: all)"),
		publishCk:  fs.Bool("publish-checkpoints", false, "with --nats, upload each checkpoint's snapshot to the bucket (needs every business)"),
		name:       fs.String("replica", "", "with --nats, the replica's durable consumer `NAME` (default: from the host name and --data-dir)"),
		minSeqWait: fs.Duration("min-seq-wait", server.DefaultMinSeqWait, "with --nats, how long a request carrying X-Procq-Min-Seq waits (`DURATION`)"),
	}
}

// configure, with --nats, readies the data directory dir from the fleet
// (restoring its snapshot when dir is empty or behind) and makes cfg a
// replica. Without --nats it changes nothing.
func (f *fleetFlags) configure(cfg *server.Config, dir string) error {
	if *f.nats.url == "" {
		return nil
	}
	ctx, stop := signalContext()
	defer stop()
	if dir == "" {
		return usageErrorf("--nats needs --data-dir: a replica keeps what it applies in a data directory")
	}
	biz, err := parseBiz(*f.biz)
	if err != nil {
		return err
	}
	name := *f.name
	if name == "" {
		name = replicaName(dir)
	}
	c, err := f.nats.connect(ctx, cfg.Logger)
	if err != nil {
		return err
	}
	restored, err := c.Prepare(ctx, dir, biz)
	if err != nil {
		c.Close()
		return err
	}
	if restored {
		cfg.Logger.Info("data dir restored from the fleet's snapshot", "dir", dir, "bucket", *f.nats.bucket)
	}
	cfg.Replica = c.Replica(fleet.FollowOptions{Name: name, Biz: biz, PublishCheckpoints: *f.publishCk})
	cfg.MinSeqWait = *f.minSeqWait
	cfg.Logger.Info("replica of the fleet", "nats", *f.nats.url, "stream", *f.nats.stream, "consumer", name, "biz", *f.biz)
	return nil
}

// parseBiz reads a comma-separated list of bk_biz_id.
func parseBiz(s string) ([]int64, error) {
	if s == "" {
		return nil, nil
	}
	var out []int64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
		if err != nil || v < 0 {
			return nil, usageErrorf("--biz %q: want bk_biz_ids separated by commas", s)
		}
		out = append(out, v)
	}
	return out, nil
}

// replicaName is the default consumer name of the replica serving dir on
// this host: stable across restarts, distinct between directories.
func replicaName(dir string) string {
	host, _ := os.Hostname()
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	sum := sha256.Sum256([]byte(host + "\x00" + abs))
	clean := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, host)
	return "procq_" + clean + "_" + hex.EncodeToString(sum[:4])
}
