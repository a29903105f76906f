package server

import (
	"context"
	"time"

	"github.com/procq/procq/engine"
	"github.com/procq/procq/internal/synth"
	"github.com/procq/procq/snapshot"
)

// testSource is a Source for the tests: a snapshot file, or a generated
// data set when path is "".
type testSource struct {
	path string
	n    int
}

func fileSource(path string) Source { return testSource{path: path} }

func demoSource(n int) Source { return testSource{n: n} }

func (s testSource) Load(context.Context) (*engine.Engine, LoadInfo, error) {
	if s.path == "" {
		recs, err := synth.Collect(synth.Options{Processes: s.n, Seed: 1})
		if err != nil {
			return nil, LoadInfo{}, err
		}
		e, err := engine.New(recs)
		return e, LoadInfo{Source: "demo", Kind: KindDemo, Created: time.Now()}, err
	}
	h, err := snapshot.ReadHeader(s.path)
	if err != nil {
		return nil, LoadInfo{}, err
	}
	e, err := engine.Load(s.path)
	return e, LoadInfo{Source: s.path, Kind: KindSnapshot, Created: h.Created}, err
}

func (s testSource) Reloadable() bool { return s.path != "" }
