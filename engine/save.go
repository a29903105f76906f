package engine

import (
	"context"

	"github.com/procq/procq/snapshot"
)

// WriteSnapshot writes the engine's records as an index snapshot at
// path (atomically: nothing is there unless it returns nil), the image of
// its indexes, so that Load reads them back without building. An engine
// with a delta is merged first (Merge: a full build). It stops with ctx's
// error between sections.
func (e *Engine) WriteSnapshot(ctx context.Context, path string) error {
	m, err := e.Merge()
	if err != nil {
		return err
	}
	return snapshot.WriteIndex(ctx, path, m.ix)
}
