package engine

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSortGroup: the first end rows sortGroup leaves are those of a full
// sort by key, on both of its paths (selection and sort).
func TestSortGroup(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 9))
	for trial := range 300 {
		n := rng.IntN(2000)
		keys := make([]uint64, n)
		group := make([]uint32, n)
		for i := range group {
			group[i] = uint32(i)
			keys[i] = rng.Uint64N(uint64(1 + trial*trial)) // ties when few
			keys[i] = keys[i]<<20 | uint64(i)              // made unique as the id rank makes them
		}
		want := slices.Clone(group)
		slices.SortFunc(want, func(a, b uint32) int { return cmp.Compare(keys[a], keys[b]) })
		end := min(n, rng.IntN(400))
		sortGroup(group, end, func(row uint32) uint64 { return keys[row] }, nil)
		if !slices.Equal(group[:end], want[:end]) {
			t.Fatalf("n %d end %d: %v, want %v", n, end, group[:end], want[:end])
		}
	}
}
