package store

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// snapName returns the file name of the snapshot covering batch seq.
func snapName(seq uint64) string {
	var b [20]byte
	putDigits(b[:], seq)
	return snapPrefix + string(b[:]) + snapSuffix
}

// parseSnapName reads a name snapName made.
func parseSnapName(name string) (uint64, bool) {
	if len(name) != len(snapPrefix)+20+len(snapSuffix) ||
		!strings.HasPrefix(name, snapPrefix) || !strings.HasSuffix(name, snapSuffix) {
		return 0, false
	}
	seq, err := strconv.ParseUint(name[len(snapPrefix):len(snapPrefix)+20], 10, 64)
	return seq, err == nil
}

// dirFiles lists what a data directory holds: its snapshots by ascending
// seq, and the leftovers of interrupted checkpoints.
func dirFiles(dir string) (snaps []uint64, leftovers []string, err error) {
	names, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("data dir %s: %w", dir, err)
	}
	for _, n := range names {
		name := n.Name()
		if seq, ok := parseSnapName(name); ok {
			snaps = append(snaps, seq)
		} else if name == shrinkName || (strings.HasPrefix(name, "."+snapPrefix) && strings.Contains(name, snapSuffix+".tmp")) {
			leftovers = append(leftovers, name)
		}
	}
	slices.Sort(snaps)
	return snaps, leftovers, nil
}
