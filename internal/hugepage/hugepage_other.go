//go:build !linux

package hugepage

// Advise does nothing where there are no transparent huge pages.
func Advise([]byte) (done func()) { return func() {} }
