package snapshot

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestReleaseMapped: a file map reads the same bytes after its pages are
// released, whole, in part, or not at all (a part within one page).
func TestReleaseMapped(t *testing.T) {
	want := make([]byte, 5*os.Getpagesize()+123)
	for i := range want {
		want[i] = byte(i * 7)
	}
	path := filepath.Join(t.TempDir(), "m")
	if err := os.WriteFile(path, want, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, unmap := mapFile(f, int64(len(want)))
	if data == nil {
		t.Skip("no file maps here")
	}
	defer unmap()
	for _, part := range [][2]int{{0, len(want)}, {100, len(want) - 100}, {10, 20}, {0, 0}} {
		releaseMapped(data[part[0]:part[1]])
		if !bytes.Equal(data, want) {
			t.Fatalf("after releasing [%d, %d) the map reads other bytes", part[0], part[1])
		}
	}
}
