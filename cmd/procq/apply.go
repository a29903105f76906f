package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/procq/procq/store"
)

// Usage lines of the data directory commands.
const (
	initUsage       = "init --data-dir DIR [--snapshot FILE]"
	applyUsage      = "apply --data-dir DIR --in CHANGES.jsonl [--sync always|second|never]"
	checkpointUsage = "checkpoint --data-dir DIR"
)

// runInit makes a data directory, empty or holding a snapshot's records.
func runInit(args []string) error {
	fs := newFlags("init")
	dir := fs.String("data-dir", "", "data directory `DIR` to create, missing or empty (required)")
	snap := fs.String("snapshot", "", "snapshot `FILE` whose records the data starts with (default: none)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required("data-dir", *dir); err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	start := time.Now()
	if err := store.InitContext(ctx, *dir, *snap); err != nil {
		return err
	}
	from := "no records"
	if *snap != "" {
		from = "the records of " + *snap
	}
	fmt.Fprintf(os.Stderr, "init: %s holds %s (%s)\n", *dir, from, time.Since(start).Round(time.Millisecond))
	return nil
}

// runApply applies a file of changes to a data directory as one batch.
func runApply(args []string) error {
	fs := newFlags("apply")
	dir := dataDirFlag(fs)
	in := fs.String("in", "", "`FILE` of changes, one operation per line, \"-\" for stdin (required)")
	syncFlag := syncFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required("data-dir", *dir); err != nil {
		return err
	}
	if err := required("in", *in); err != nil {
		return err
	}
	policy, err := store.ParseSyncPolicy(*syncFlag)
	if err != nil {
		return fmt.Errorf("--sync: %w", err)
	}
	if _, err := os.Stat(*dir); err != nil {
		return fmt.Errorf("--data-dir: %w", err)
	}
	// Read and check every line before the data directory is touched: a
	// bad line applies nothing.
	ops, name, err := readChanges(*in)
	if err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	s, err := openStore(ctx, *dir, store.Options{Sync: policy})
	if err != nil {
		return err
	}
	start := time.Now()
	res, err := s.Apply(ctx, ops)
	took := time.Since(start)
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "apply: %d operations from %s as batch %d: %d processes changed, %d records now, in %s\n",
		len(ops), name, res.Seq, res.Changed, s.Engine().Len(), took.Round(time.Millisecond))
	if len(res.Missing) > 0 {
		fmt.Fprintf(os.Stderr, "apply: %d deletes or status updates named no process and were skipped: %s\n",
			len(res.Missing), idList(res.Missing, 10))
	}
	return nil
}

// runCheckpoint writes a data directory's data as a new snapshot and
// trims its journal.
func runCheckpoint(args []string) error {
	fs := newFlags("checkpoint")
	dir := dataDirFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required("data-dir", *dir); err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	start := time.Now()
	m := newMeter("checkpoint")
	s, err := openStore(ctx, *dir, store.Options{CheckpointBytes: -1, CheckpointProgress: func(done, total int) {
		m.show("write snapshot", "records", int64(done), int64(total))
	}})
	if err != nil {
		return err
	}
	opened := time.Since(start)
	info, err := s.Checkpoint(ctx)
	m.end()
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if info.Skipped {
		fmt.Fprintf(os.Stderr, "checkpoint: nothing changed since the snapshot (batch %d)\n", info.Seq)
		return nil
	}
	fmt.Fprintf(os.Stderr, "checkpoint: %d records up to batch %d in %s (%d bytes, written in %s, journal trimmed in %s from %d to %d bytes); opening took %s\n",
		info.Records, info.Seq, info.Snapshot, info.SnapshotBytes, info.Write.Round(time.Millisecond),
		info.Trim.Round(time.Millisecond), info.JournalBytesBefore, info.JournalBytesAfter, opened.Round(time.Millisecond))
	return nil
}

// signalContext returns a context that ends on SIGINT or SIGTERM, so
// that a data directory command stops cleanly at any point, opening the
// store included.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// openStore opens a data directory for a command until ctx ends, logging
// the store's warnings (such as a torn batch dropped on recovery) on
// stderr.
func openStore(ctx context.Context, dir string, opts store.Options) (*store.Store, error) {
	opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := store.OpenContext(ctx, dir, opts)
	if errors.Is(err, store.ErrLocked) {
		return nil, fmt.Errorf("%w: while procq serve has it open, change it through the HTTP admin endpoints", err)
	}
	return s, err
}

// idList formats up to n ids, noting how many more there are.
func idList(ids []int64, n int) string {
	var b strings.Builder
	for i, id := range ids[:min(n, len(ids))] {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprint(&b, id)
	}
	if len(ids) > n {
		fmt.Fprintf(&b, " and %d more", len(ids)-n)
	}
	return b.String()
}
