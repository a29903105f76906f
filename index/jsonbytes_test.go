package index

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestAppendInt checks appendInt against strconv.AppendInt at every
// power of ten and its neighbours, the extremes and random values, onto
// buffers with and without room.
func TestAppendInt(t *testing.T) {
	vs := []int64{0, 1, 9, 10, 99, 100, math.MaxInt64, math.MinInt64, math.MinInt64 + 1}
	for p := int64(1); p < math.MaxInt64/10; p *= 10 {
		vs = append(vs, p-1, p, p+1, -p+1, -p, -p-1, 10*p-1)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		vs = append(vs, int64(rnd.Uint64()), rnd.Int64N(1e12), -rnd.Int64N(1e6))
	}
	for i, v := range vs {
		prefix := []byte("x")
		if i%2 == 0 {
			prefix = make([]byte, 1, 1+i%25)
			prefix[0] = 'x'
		}
		got := appendInt(prefix, v)
		if want := strconv.AppendInt([]byte("x"), v, 10); string(got) != string(want) {
			t.Fatalf("%d: got %s, want %s", v, got, want)
		}
	}
}

// TestBlocks checks that every glue, tail and list piece is one (newBlock
// refuses a piece longer than a block) and that appendBlock appends exactly it, with or without room.
func TestBlocks(t *testing.T) {
	var pieces []*block
	for k := range jsonGlue {
		for f := range jsonGlue[k] {
			pieces = append(pieces, &jsonGlue[k][f])
		}
		pieces = append(pieces, &jsonTails[k])
	}
	pieces = append(pieces, &ctID, &ctTmpl, &ctFile, &ctEnd, &piPid, &piLocal, &piInst, &piStatus, &piAutoTrue, &piAutoFalse)
	for i, k := range pieces {
		if k.n == 0 {
			t.Fatalf("piece %d is empty", i)
		}
		b := make([]byte, 3, 3+i%40)
		copy(b, "abc")
		if got := appendBlock(b, k); string(got) != "abc"+k.String() {
			t.Fatalf("piece %d: got %q, want %q", i, got, "abc"+k.String())
		}
	}
}
