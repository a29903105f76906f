package hugepage

import (
	"bytes"
	"testing"
)

// TestAdvise: advice over slices of every size, around and inside
// huge pages, leaves what they and their neighbours hold as written.
func TestAdvise(t *testing.T) {
	for _, n := range []int{0, 1, 4096, 1 << 20, 3 << 20, 4<<20 + 17} {
		before := bytes.Repeat([]byte{7}, 64)
		b := make([]byte, n)
		after := bytes.Repeat([]byte{9}, 64)
		done := Advise(b)
		for i := range b {
			b[i] = byte(i)
		}
		done()
		for i := range b {
			if b[i] != byte(i) {
				t.Fatalf("%d bytes: byte %d is %d", n, i, b[i])
			}
		}
		if !bytes.Equal(before, bytes.Repeat([]byte{7}, 64)) || !bytes.Equal(after, bytes.Repeat([]byte{9}, 64)) {
			t.Fatalf("%d bytes: neighbours changed", n)
		}
	}
}
