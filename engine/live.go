package engine

import "sync/atomic"

// Live holds the engine currently serving requests, so that a reload or a
// write swaps in a new one atomically: requests already running finish on
// the engine they started with. It is safe for concurrent use; the zero
// value holds no engine.
type Live struct {
	p atomic.Pointer[Engine]
}

// NewLive returns a Live holding e, which may be nil.
func NewLive(e *Engine) *Live {
	l := new(Live)
	l.p.Store(e)
	return l
}

// Load returns the engine held now, or nil when none is.
func (l *Live) Load() *Engine { return l.p.Load() }

// Store makes e the engine held.
func (l *Live) Store(e *Engine) { l.p.Store(e) }

// Swap makes e the engine held and returns the one it replaces.
func (l *Live) Swap(e *Engine) *Engine { return l.p.Swap(e) }
