package main

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/procq/procq/server"
)

func TestServeSources(t *testing.T) {
	snap := filepath.Join(t.TempDir(), "a.snap")
	if r := procq(t, "", "gen", "--out", snap, "--processes", "300", "--seed", "2"); r.code != 0 {
		t.Fatalf("gen: %+v", r)
	}
	for _, c := range []struct {
		src        server.Source
		kind       string
		records    int
		reloadable bool
	}{
		{snapshotSource{snap}, server.KindSnapshot, 300, true},
		{demoSource{200, 1}, server.KindDemo, 200, false},
	} {
		e, info, err := c.src.Load(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", c.kind, err)
		}
		if info.Kind != c.kind || e.Len() != c.records || info.Created.IsZero() || c.src.Reloadable() != c.reloadable {
			t.Errorf("%s: %+v with %d records, reloadable %v", c.kind, info, e.Len(), c.src.Reloadable())
		}
	}
	if _, _, err := (snapshotSource{filepath.Join(t.TempDir(), "missing")}).Load(context.Background()); err == nil {
		t.Error("a missing snapshot loaded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := (snapshotSource{snap}).Load(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled load: %v", err)
	}
}
