package server

import (
	"context"

	"github.com/procq/procq/engine"
)

// Source is a data set the server serves. The server calls Load for the
// first load and for every reload, one call at a time.
type Source interface {
	// Load reads the data set and builds its engine. The LoadInfo it
	// returns names the source (Source, Kind) and when the data was made
	// (Created); the server fills in the rest. ctx ends when the server
	// stops.
	Load(ctx context.Context) (*engine.Engine, LoadInfo, error)
	// Reloadable reports whether a reload may read different data: false
	// for a generated data set, whose reload answers 409 without loading,
	// and which Run serves on any address without an admin token.
	Reloadable() bool
}
