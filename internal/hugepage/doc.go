// Package hugepage asks the kernel for transparent huge pages over memory
// about to be written for the first time: one page fault per 2 MB instead
// of one per 4 KB, where faults are dear (tens of microseconds each on a
// busy virtual machine).
package hugepage
