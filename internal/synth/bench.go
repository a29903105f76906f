package synth

import (
	"os"
	"strconv"
)

// DefaultBenchProcesses is the size of the data set procq's benchmarks
// build when PROCQ_BENCH_PROCESSES does not say otherwise.
const DefaultBenchProcesses = 100000

// BenchProcesses returns the number of processes the benchmarks build
// their data set from: PROCQ_BENCH_PROCESSES when it is a positive
// integer, DefaultBenchProcesses otherwise.
func BenchProcesses() int {
	if v, err := strconv.Atoi(os.Getenv("PROCQ_BENCH_PROCESSES")); err == nil && v > 0 {
		return v
	}
	return DefaultBenchProcesses
}
