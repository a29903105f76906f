//go:build linux

package hugepage

import (
	"bytes"
	"os"
	"sync"
	"syscall"
	"unsafe"
)

// hugePage is the size of a transparent huge page on x86-64 and on arm64
// with 4 KB base pages.
const hugePage = 2 << 20

// thpMadvise tells whether transparent huge pages are in "madvise" mode,
// the one where advice changes anything: "always" backs the heap with
// them anyway, "never" not at all.
var thpMadvise = sync.OnceValue(func() bool {
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	return err == nil && bytes.Contains(b, []byte("[madvise]"))
})

// Advise asks the kernel to back the huge pages b spans, rounded out
// to whole huge pages, with transparent huge pages when they are first
// touched, and returns the function that withdraws the advice: call it
// once b is written, so that pages the runtime later frees are not
// collapsed back into huge ones (in "madvise" mode, the only one it
// advises in, memory without advice gets no huge pages either). A huge
// page whose memory another object already touched stays small: the
// advice then changes nothing. b must not have been written yet. Advice
// that fails changes nothing but the speed, so errors are ignored.
func Advise(b []byte) (done func()) {
	if len(b) < hugePage/2 || !thpMadvise() {
		return func() {}
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	// Addresses, not pointers: the rounded range reaches outside b.
	lo := p &^ (hugePage - 1)
	hi := (p + uintptr(len(b)) + hugePage - 1) &^ (hugePage - 1)
	if madvise(lo, hi-lo, syscall.MADV_HUGEPAGE) != nil {
		return func() {}
	}
	return func() { _ = madvise(lo, hi-lo, syscall.MADV_NOHUGEPAGE) }
}

func madvise(addr, n uintptr, advice int) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, addr, n, uintptr(advice)); errno != 0 {
		return errno
	}
	return nil
}
