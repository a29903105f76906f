//go:build unix

package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/procq/procq/internal/synth"
	"github.com/procq/procq/record"
)

// bounded runs fn in a goroutine and fails the test if it has not
// returned by a generous deadline: fn must fail fast, not block.
func bounded(t *testing.T, fn func() error) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		t.Fatal("still blocked at the deadline")
		return nil
	}
}

// specialFiles are things that are not regular files, each made at path.
var specialFiles = []struct {
	name string
	make func(path string) error
}{
	{"FIFO", func(p string) error { return syscall.Mkfifo(p, 0o644) }},
	{"directory", func(p string) error { return os.Mkdir(p, 0o755) }},
	{"symlink to /dev/full", func(p string) error { return os.Symlink("/dev/full", p) }},
	{"symlink to /dev/zero", func(p string) error { return os.Symlink("/dev/zero", p) }},
}

// TestSpecialFiles checks that a journal or snapshot that is not a regular
// file fails Open (and Init) with ErrNotRegular at once, instead of
// blocking on a FIFO or reading a device for ever.
func TestSpecialFiles(t *testing.T) {
	recs := baseRecords(t, synth.Options{Processes: 20, Seed: 1})
	for _, sf := range specialFiles {
		t.Run("journal is a "+sf.name, func(t *testing.T) {
			dir := initDir(t, recs)
			path := filepath.Join(dir, journalName)
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			if err := sf.make(path); err != nil {
				t.Skip(err)
			}
			err := bounded(t, func() error { _, err := Open(dir, Options{}); return err })
			if !errors.Is(err, ErrNotRegular) {
				t.Errorf("Open: %v, want ErrNotRegular", err)
			}
		})
		t.Run("snapshot is a "+sf.name, func(t *testing.T) {
			dir := initDir(t, recs)
			path := filepath.Join(dir, snapName(0))
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			if err := sf.make(path); err != nil {
				t.Skip(err)
			}
			err := bounded(t, func() error { _, err := Open(dir, Options{}); return err })
			if !errors.Is(err, ErrNotRegular) {
				t.Errorf("Open: %v, want ErrNotRegular", err)
			}
		})
		t.Run("Init from a "+sf.name, func(t *testing.T) {
			tmp := t.TempDir()
			from := filepath.Join(tmp, "from")
			if err := sf.make(from); err != nil {
				t.Skip(err)
			}
			err := bounded(t, func() error { return Init(filepath.Join(tmp, "data"), from) })
			if !errors.Is(err, ErrNotRegular) {
				t.Errorf("Init: %v, want ErrNotRegular", err)
			}
		})
	}
}

// TestWriteRetries checks that a journal write that fails is tried again a
// bounded number of times, with pauses, and then fails the write alone:
// the store keeps its data and takes the next write.
func TestWriteRetries(t *testing.T) {
	tests := []struct {
		name     string
		failures int // attempts that fail before one succeeds
		want     error
		attempts int
	}{
		{"one failure", 1, nil, 2},
		{"all but the last", writeAttempts - 1, nil, writeAttempts},
		{"every attempt", 1 << 30, syscall.ENOSPC, writeAttempts},
	}
	recs := baseRecords(t, synth.Options{Processes: 20, Seed: 1})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := initDir(t, recs)
			attempts, failures := 0, tc.failures
			s := mustOpen(t, dir, Options{retryWait: time.Microsecond, writeFault: func() error {
				attempts++
				if failures > 0 {
					failures--
					return syscall.ENOSPC
				}
				return nil
			}})
			defer s.Close()
			r := &record.Record{ProcessID: 1 << 40, SetEnv: "3"}
			_, err := s.Upsert(context.Background(), []*record.Record{r})
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Upsert: %v, want %v", err, tc.want)
			}
			if attempts != tc.attempts {
				t.Errorf("%d write attempts, want %d", attempts, tc.attempts)
			}
			_, present := s.Engine().Record(r.ProcessID)
			if present != (tc.want == nil) {
				t.Errorf("record present after the write: %v", present)
			}
			failures = 0
			if _, err := s.Delete(context.Background(), []int64{recs[0].ProcessID}); err != nil {
				t.Errorf("the next write: %v", err)
			}
		})
	}
}

// TestWriteRetryCancel checks that a write waiting to try again gives up
// when its context ends.
func TestWriteRetryCancel(t *testing.T) {
	recs := baseRecords(t, synth.Options{Processes: 20, Seed: 1})
	dir := initDir(t, recs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	attempts := 0
	s := mustOpen(t, dir, Options{retryWait: time.Hour, writeFault: func() error {
		attempts++
		cancel()
		return syscall.EIO
	}})
	defer s.Close()
	err := bounded(t, func() error {
		_, err := s.Delete(ctx, []int64{recs[0].ProcessID})
		return err
	})
	if !errors.Is(err, context.Canceled) || !errors.Is(err, syscall.EIO) || attempts != 1 {
		t.Errorf("Delete: %v after %d attempts, want context.Canceled and EIO after 1", err, attempts)
	}
}

// TestOpenCancel checks that OpenContext stops when its context ends, at
// any phase, and leaves the directory unlocked.
func TestOpenCancel(t *testing.T) {
	dir := initDir(t, baseRecords(t, synth.Options{Processes: 20, Seed: 1}))
	for _, stage := range []string{"before", "open-journal", "open-snapshot"} {
		t.Run(stage, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if stage == "before" {
				cancel()
			}
			_, err := OpenContext(ctx, dir, Options{hook: func(at string) {
				if at == stage {
					cancel()
				}
			}})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("OpenContext: %v, want context.Canceled", err)
			}
			mustOpen(t, dir, Options{}).Close()
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := InitContext(ctx, filepath.Join(t.TempDir(), "data"), ""); !errors.Is(err, context.Canceled) {
		t.Errorf("InitContext: %v, want context.Canceled", err)
	}
}
