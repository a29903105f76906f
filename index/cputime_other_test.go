//go:build !linux

package index

import "time"

// threadCPU returns the CPU time of the calling thread: not known here.
func threadCPU() (time.Duration, bool) { return 0, false }
