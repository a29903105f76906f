//go:build !linux

package snapshot

// releaseMapped does nothing: the pages of a map stay resident until it is
// unmapped.
func releaseMapped([]byte) {}
