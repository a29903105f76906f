package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/procq/procq/engine"
)

// Init makes dir, which must be missing or empty, a data directory. With
// from not "", the snapshot file at from (read and checked whole) becomes
// its first snapshot; otherwise the data starts empty. An Init cut short
// leaves a directory that Open refuses and Init calls not empty: remove it
// and run Init again.
func Init(dir, from string) error {
	return InitContext(context.Background(), dir, from)
}

// InitContext is Init, giving up with ctx's error when ctx ends before the
// snapshot is copied.
func InitContext(ctx context.Context, dir, from string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("data dir %s: %w", dir, err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return err
	}
	defer unlockDir(lock)
	names, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("data dir %s: %w", dir, err)
	}
	for _, n := range names {
		if n.Name() != lockName {
			return fmt.Errorf("data dir %s: %w (holds %s)", dir, ErrExists, n.Name())
		}
	}
	if from != "" {
		if err := copySnapshot(ctx, from, filepath.Join(dir, snapName(0))); err != nil {
			return err
		}
	}
	path := filepath.Join(dir, journalName)
	if err := writeJournalFile(path, 0, from != "", nil); err != nil {
		return fmt.Errorf("journal %s: %w", path, err)
	}
	return syncDir(dir)
}

// copySnapshot writes the snapshot at from, version 1, 2 or 3, as an
// index snapshot at to, checking that no bk_process_id appears twice (Load),
// and stops with ctx's error when ctx ends.
func copySnapshot(ctx context.Context, from, to string) error {
	e, err := engine.Load(from)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return e.WriteSnapshot(ctx, to)
}
