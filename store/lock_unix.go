//go:build unix

package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// dirLock is a data directory's lock: an flock on the directory itself,
// which no file operation inside it can lift, and one on its LOCK file,
// which older versions of procq take instead.
type dirLock struct {
	dir, file *os.File
}

// lockDir takes the data directory's lock, which lasts until unlockDir or
// the end of the process. A lock held elsewhere, in this process or
// another, fails with ErrLocked.
func lockDir(dir string) (*dirLock, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("data dir %s: %w", dir, err)
	}
	if st, err := d.Stat(); err != nil || !st.IsDir() {
		d.Close()
		if err == nil {
			err = syscall.ENOTDIR
		}
		return nil, fmt.Errorf("data dir %s: %w", dir, err)
	}
	if err := flock(d, dir); err != nil {
		d.Close()
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("data dir %s: lock: %w", dir, err)
	}
	if err := flock(f, dir); err != nil {
		f.Close()
		d.Close()
		return nil, err
	}
	return &dirLock{dir: d, file: f}, nil
}

// flock takes an exclusive flock on f without waiting.
func flock(f *os.File, dir string) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, syscall.EWOULDBLOCK):
		return fmt.Errorf("data dir %s: %w", dir, ErrLocked)
	}
	return fmt.Errorf("data dir %s: lock: %w", dir, err)
}

// unlockDir releases a lock lockDir took.
func unlockDir(l *dirLock) error {
	if l == nil {
		return nil
	}
	return errors.Join(l.file.Close(), l.dir.Close())
}
