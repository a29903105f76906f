package fleet

import (
	"context"
	"errors"
	"sync"

	"github.com/procq/procq/store"
)

// Replica is a data directory's place in a fleet, as a server
// (server.Replica) uses it: a Follower of the directory's store once the
// server has opened it, and the publisher of the server's admin writes,
// which looks businesses up in the data the store serves.
type Replica struct {
	c    *Conn
	opts FollowOptions

	mu sync.Mutex
	f  *Follower
	st *store.Store
}

// Replica returns the replica that follows with opts once started.
func (c *Conn) Replica(opts FollowOptions) *Replica { return &Replica{c: c, opts: opts} }

// Start starts following the stream into st.
func (r *Replica) Start(st *store.Store) error {
	f, err := r.c.Follow(st, r.opts)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f != nil {
		return errors.Join(errors.New("replica already started"), f.Close())
	}
	r.f, r.st = f, st
	return nil
}

// Stop stops following.
func (r *Replica) Stop() error {
	r.mu.Lock()
	f := r.f
	r.f = nil
	r.mu.Unlock()
	if f == nil {
		return nil
	}
	return f.Close()
}

func (r *Replica) follower() *Follower {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.f
}

// Publish publishes ops (see Conn.Publish), the business of a delete or a
// status update looked up in the data served.
func (r *Replica) Publish(ctx context.Context, ops []store.Op) (uint64, int, error) {
	r.mu.Lock()
	st := r.st
	r.mu.Unlock()
	var lookup BizLookup
	if st != nil {
		e := st.Engine()
		lookup = func(pid int64) (int64, bool) {
			rec, ok := e.Record(pid)
			if !ok {
				return 0, false
			}
			return rec.BizID, true
		}
	}
	res, err := r.c.Publish(ctx, ops, lookup)
	return res.Seq, res.Messages, err
}

// Applied is Follower.Applied, 0 before Start.
func (r *Replica) Applied() uint64 {
	if f := r.follower(); f != nil {
		return f.Applied()
	}
	return 0
}

// WaitApplied is Follower.WaitApplied; before Start it waits for ctx.
func (r *Replica) WaitApplied(ctx context.Context, seq uint64) error {
	if f := r.follower(); f != nil {
		return f.WaitApplied(ctx, seq)
	}
	if seq == 0 {
		return nil
	}
	<-ctx.Done()
	return ctx.Err()
}

// Lag is Follower.Lag, 0 before Start.
func (r *Replica) Lag() uint64 {
	if f := r.follower(); f != nil {
		return f.Lag()
	}
	return 0
}

// AppliedTotal is Follower.AppliedTotal, 0 before Start.
func (r *Replica) AppliedTotal() uint64 {
	if f := r.follower(); f != nil {
		return f.AppliedTotal()
	}
	return 0
}

// Health is Follower.Health; before Start it says so.
func (r *Replica) Health() error {
	if f := r.follower(); f != nil {
		return f.Health()
	}
	return errors.New("not following yet: the data directory is not open")
}
