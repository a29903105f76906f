package main

import (
	"context"
	"fmt"
	"time"

	"github.com/procq/procq/engine"
	"github.com/procq/procq/internal/synth"
	"github.com/procq/procq/server"
	"github.com/procq/procq/snapshot"
)

// snapshotSource serves a snapshot file, read again by every reload.
type snapshotSource struct{ path string }

// Load reads the snapshot file and indexes it.
func (s snapshotSource) Load(ctx context.Context) (*engine.Engine, server.LoadInfo, error) {
	info := server.LoadInfo{Source: s.path, Kind: server.KindSnapshot}
	if err := ctx.Err(); err != nil {
		return nil, info, err
	}
	h, err := snapshot.ReadHeader(s.path)
	if err != nil {
		return nil, info, err
	}
	e, err := engine.Load(s.path)
	if err != nil {
		return nil, info, err
	}
	info.Created = h.Created
	return e, info, nil
}

// Reloadable is true: the file may have been replaced.
func (snapshotSource) Reloadable() bool { return true }

// demoSource serves the synthetic data set of n processes made with seed.
type demoSource struct {
	n    int
	seed int64
}

// Load generates the data set and indexes it.
func (s demoSource) Load(ctx context.Context) (*engine.Engine, server.LoadInfo, error) {
	info := server.LoadInfo{Source: "demo", Kind: server.KindDemo, Created: time.Now()}
	if err := ctx.Err(); err != nil {
		return nil, info, err
	}
	recs, err := synth.Collect(synth.Options{Processes: s.n, Seed: s.seed})
	if err != nil {
		return nil, info, fmt.Errorf("demo data set: %w", err)
	}
	e, err := engine.New(recs)
	if err != nil {
		return nil, info, fmt.Errorf("demo data set: %w", err)
	}
	return e, info, nil
}

// Reloadable is false: the same seed makes the same data set.
func (demoSource) Reloadable() bool { return false }
