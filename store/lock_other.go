//go:build !unix

package store

import "os"

// lockDir does not lock on this platform: two processes must not open
// one data directory at once.
func lockDir(dir string) (*os.File, error) { return nil, nil }

// unlockDir releases a lock lockDir took.
func unlockDir(f *os.File) error { return nil }
