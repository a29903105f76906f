//go:build unix

package snapshot

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/procq/procq/record"
)

// TestSpecialFiles checks that Read and ReadHeader refuse a path that is
// not a regular file with ErrNotRegular, at once: a FIFO without a writer
// does not block them, and a device that never ends is not read.
func TestSpecialFiles(t *testing.T) {
	tests := []struct {
		name string
		make func(path string) error
	}{
		{"FIFO", func(p string) error { return syscall.Mkfifo(p, 0o644) }},
		{"directory", func(p string) error { return os.Mkdir(p, 0o755) }},
		{"/dev/full", func(p string) error { return os.Symlink("/dev/full", p) }},
		{"/dev/zero", func(p string) error { return os.Symlink("/dev/zero", p) }},
		{"/dev/null", func(p string) error { return os.Symlink("/dev/null", p) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s.snap")
			if err := tc.make(path); err != nil {
				t.Skip(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			done := make(chan [2]error, 1)
			go func() {
				_, rerr := Read(path, func(*record.Record) error { return nil })
				_, herr := ReadHeader(path)
				done <- [2]error{rerr, herr}
			}()
			select {
			case errs := <-done:
				for i, err := range errs {
					if !errors.Is(err, ErrNotRegular) {
						t.Errorf("%s: %v, want ErrNotRegular", []string{"Read", "ReadHeader"}[i], err)
					}
				}
			case <-ctx.Done():
				t.Fatal("still blocked at the deadline")
			}
		})
	}
}
