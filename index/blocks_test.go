package index

import (
	"math/rand/v2"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/procq/procq/internal/synth"
)

// TestPrefixesAndGroups checks, for every order of an index large enough
// to span several bitmap containers, built and read back from its image,
// that Before(m) holds exactly the rows of the first m steps of Perm and
// that GroupOf agrees with the group-start bits walked one by one.
func TestPrefixesAndGroups(t *testing.T) {
	built, read := builtAndRead(t, 150000, 3)
	rng := rand.New(rand.NewPCG(1, 2))
	for name, ix := range map[string]*Index{"built": built, "read": read} {
		for k := range NumKeys {
			o := ix.Order(k)
			step := o.SuperSize()
			if step%BlockSize != 0 || o.NumSupers() != (len(o.Perm)+step-1)/step || o.NumSupers() < 2 {
				t.Fatalf("%s key %d: step %d, %d steps for %d positions", name, k, step, o.NumSupers(), len(o.Perm))
			}
			want := roaring.New()
			for m := 0; m <= o.NumSupers(); m++ {
				if m > 0 {
					want.AddMany(o.Perm[(m-1)*step : min(m*step, len(o.Perm))])
				}
				if !o.Before(m).Equals(want) {
					t.Fatalf("%s key %d: Before(%d) has %d rows, want %d", name, k, m, o.Before(m).GetCardinality(), want.GetCardinality())
				}
			}
			for range 200 {
				p := rng.IntN(len(o.Perm))
				lo, hi := p, p+1
				for lo > 0 && !o.GroupStart(lo) {
					lo--
				}
				for hi < len(o.Perm) && !o.GroupStart(hi) {
					hi++
				}
				if gl, gh := o.GroupOf(p); gl != lo || gh != hi {
					t.Fatalf("%s key %d: GroupOf(%d) = [%d, %d), want [%d, %d)", name, k, p, gl, gh, lo, hi)
				}
			}
		}
	}
}

// builtAndRead returns an index built from a synth data set of
// processes processes, and the same index read back from its image.
func builtAndRead(t *testing.T, processes, seed int) (built, read *Index) {
	t.Helper()
	recs, err := synth.Collect(synth.Options{Processes: processes, Seed: int64(seed)})
	if err != nil {
		t.Fatal(err)
	}
	built = Build(recs)
	read, err = ReadImage(imageOf(t, built))
	if err != nil {
		t.Fatal(err)
	}
	return built, read
}
