//go:build !unix

package store

// dirLock stands for a data directory's lock, which this platform does not
// take: two processes must not open one data directory at once.
type dirLock struct{}

// lockDir does not lock on this platform.
func lockDir(dir string) (*dirLock, error) { return nil, nil }

// unlockDir releases a lock lockDir took.
func unlockDir(l *dirLock) error { return nil }
