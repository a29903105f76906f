package snapshot

import (
	"syscall"
	"unsafe"
)

// releaseMapped drops the pages of b, part of a read-only file map,
// from the process's resident set: the page cache keeps them and a later
// read maps them again. Pages b only partly covers stay.
func releaseMapped(b []byte) {
	page := uintptr(syscall.Getpagesize())
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	lo := (p + page - 1) &^ (page - 1)
	hi := (p + uintptr(len(b))) &^ (page - 1)
	if hi > lo {
		_ = syscall.Madvise(b[lo-p:hi-p], syscall.MADV_DONTNEED)
	}
}
