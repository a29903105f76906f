//go:build unix

package snapshot

import (
	"os"
	"syscall"
)

// mapFile maps size bytes of f read-only, or returns nil when it cannot:
// the caller then reads the file. An index image read from the map
// costs no copy of the file into the heap (about 190 MB at 1M records:
// page faults and zeroing that were most of a load's system time).
func mapFile(f *os.File, size int64) (data []byte, unmap func()) {
	if size <= 0 || int64(int(size)) != size {
		return nil, nil
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil
	}
	return data, func() { syscall.Munmap(data) }
}
