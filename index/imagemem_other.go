//go:build !linux

package index

// adviseHuge does nothing where there are no transparent huge pages.
func adviseHuge([]byte) (done func()) { return func() {} }
