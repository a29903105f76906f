//go:build unix

package store

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/procq/procq/internal/synth"
)

// lockDirEnv, when set, makes the test binary a child that opens the data
// directory it names and exits with lockChildLocked, lockChildOpened or
// lockChildOther.
const lockDirEnv = "PROCQ_STORE_LOCK_DIR"

const (
	lockChildOpened = 10
	lockChildLocked = 11
	lockChildOther  = 12
)

func lockChild(dir string) int {
	s, err := Open(dir, Options{})
	switch {
	case err == nil:
		s.Close()
		return lockChildOpened
	case errors.Is(err, ErrLocked):
		return lockChildLocked
	}
	os.Stderr.WriteString(err.Error() + "\n")
	return lockChildOther
}

// openFromChild opens dir from another process and returns how that went.
func openFromChild(t *testing.T, dir string) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), lockDirEnv+"="+dir)
	cmd.Stderr = os.Stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("child: %v", err)
	}
	return ee.ExitCode()
}

// TestLock checks that a data directory has one writer: a second Open, in
// this process or another, is refused with ErrLocked however the files in
// the directory are removed, and Close lets the next one in.
func TestLock(t *testing.T) {
	recs := baseRecords(t, synth.Options{Processes: 20, Seed: 1})
	tests := []struct {
		name   string
		remove func(dir string) error
	}{
		{"nothing removed", func(string) error { return nil }},
		{"LOCK removed", func(dir string) error { return os.Remove(filepath.Join(dir, lockName)) }},
		{"every file removed", func(dir string) error {
			names, err := os.ReadDir(dir)
			for _, n := range names {
				err = errors.Join(err, os.Remove(filepath.Join(dir, n.Name())))
			}
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := initDir(t, recs)
			s := mustOpen(t, dir, Options{})
			if err := tc.remove(dir); err != nil {
				t.Fatal(err)
			}
			if _, err := Open(dir, Options{}); !errors.Is(err, ErrLocked) {
				t.Errorf("second Open in this process: %v, want ErrLocked", err)
			}
			if err := Init(dir, ""); !errors.Is(err, ErrLocked) {
				t.Errorf("Init over an open data dir: %v, want ErrLocked", err)
			}
			if code := openFromChild(t, dir); code != lockChildLocked {
				t.Errorf("Open from another process: exit %d, want %d (locked)", code, lockChildLocked)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if tc.name != "nothing removed" {
				return
			}
			if code := openFromChild(t, dir); code != lockChildOpened {
				t.Errorf("Open from another process after Close: exit %d, want %d (opened)", code, lockChildOpened)
			}
			mustOpen(t, dir, Options{}).Close()
		})
	}
}
