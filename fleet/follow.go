package fleet

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procq/procq/store"
)

// FollowOptions configures a Follower.
type FollowOptions struct {
	// Name names the replica's durable consumer: one per replica, letters,
	// digits, '-' and '_'.
	Name string
	// Biz lists the businesses followed; empty means every business.
	Biz []int64
	// PublishCheckpoints uploads each new snapshot of the store (its
	// checkpoints) to the snapshot bucket. It needs every business.
	PublishCheckpoints bool
	// RetryWait is the pause before the consumer is made again after it
	// failed (NATS down, the consumer lost); 0 means a second.
	RetryWait time.Duration
}

// Follower applies the stream's messages to a store. Its methods are safe
// for concurrent use.
type Follower struct {
	c    *Conn
	st   *store.Store
	opts FollowOptions
	subj []string

	applied seqWatch
	lag     atomic.Uint64
	total   atomic.Uint64
	lastErr atomic.Pointer[error]

	uploaded  atomic.Uint64 // the store batch of the last snapshot uploaded
	uploading atomic.Bool

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Follow starts applying the stream to st from the position st has
// journaled (store.StreamSeq), until Close.
func (c *Conn) Follow(st *store.Store, opts FollowOptions) (*Follower, error) {
	if opts.Name == "" || strings.ContainsAny(opts.Name, ".*> \t") {
		return nil, fmt.Errorf("replica name %q: want letters, digits, '-' and '_'", opts.Name)
	}
	if opts.PublishCheckpoints && len(opts.Biz) > 0 {
		return nil, errors.New("a replica of some businesses cannot publish its checkpoints: its snapshots lack the others")
	}
	if opts.RetryWait <= 0 {
		opts.RetryWait = time.Second
	}
	pos, err := st.StreamSeq()
	if err != nil {
		return nil, err
	}
	_, snapSeq, _, err := st.SnapshotStream()
	if err != nil {
		return nil, err
	}
	f := &Follower{c: c, st: st, opts: opts, subj: []string{SubjectPrefix + ">"}}
	if len(opts.Biz) > 0 {
		f.subj = []string{SubjectAny}
		for _, b := range opts.Biz {
			f.subj = append(f.subj, Subject(b))
		}
	}
	f.applied.init(pos)
	f.uploaded.Store(snapSeq)
	ctx, cancel := context.WithCancel(context.Background())
	f.ctx, f.cancel = ctx, cancel
	f.wg.Add(1)
	go f.run(ctx)
	if opts.PublishCheckpoints {
		f.wg.Add(1)
		go f.uploadLoop(ctx)
	}
	return f, nil
}

// uploadInterval is how often a replica that publishes its checkpoints
// looks for one made while no message came (an admin checkpoint, a
// background one finishing after the last message).
const uploadInterval = 5 * time.Second

// uploadLoop uploads new checkpoints every uploadInterval until ctx ends.
func (f *Follower) uploadLoop(ctx context.Context) {
	defer f.wg.Done()
	t := time.NewTicker(uploadInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f.maybeUpload()
		}
	}
}

// Close stops following and waits for the message being applied.
func (f *Follower) Close() error {
	f.cancel()
	f.wg.Wait()
	return nil
}

// Applied returns the stream sequence of the last message applied.
func (f *Follower) Applied() uint64 { return f.applied.get() }

// WaitApplied waits until the message of stream sequence seq, or a later
// one, is applied, or ctx ends.
func (f *Follower) WaitApplied(ctx context.Context, seq uint64) error {
	return f.applied.wait(ctx, seq)
}

// Lag returns how many messages of the replica's subjects the stream
// held past the last one applied, when that one was delivered.
func (f *Follower) Lag() uint64 { return f.lag.Load() }

// AppliedTotal returns the number of messages applied since Follow.
func (f *Follower) AppliedTotal() uint64 { return f.total.Load() }

// Health returns why the replica is not following the stream now, nil
// when it is.
func (f *Follower) Health() error {
	if !f.c.Connected() {
		return fmt.Errorf("NATS %s unreachable: serving what was applied", f.c.opts.URL)
	}
	if p := f.lastErr.Load(); p != nil {
		return *p
	}
	return nil
}

// run consumes until ctx ends, making the consumer again after a
// failure.
func (f *Follower) run(ctx context.Context) {
	defer f.wg.Done()
	for {
		err := f.consume(ctx)
		if ctx.Err() != nil {
			return
		}
		f.lastErr.Store(&err)
		f.c.log.Warn("following the stream failed; trying again", "consumer", f.opts.Name, "applied", f.Applied(), "wait", f.opts.RetryWait, "err", err)
		t := time.NewTimer(f.opts.RetryWait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// consume makes the replica's durable consumer start right after the
// last message applied and applies what it delivers.
func (f *Follower) consume(ctx context.Context) error {
	from := f.Applied() + 1
	sctx, cancel := context.WithTimeout(ctx, f.c.opts.ConnectTimeout)
	defer cancel()
	// The store, not the consumer's acknowledgements, says where to
	// start: the consumer is made again from there.
	if err := f.c.js.DeleteConsumer(sctx, f.c.opts.Stream, f.opts.Name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return fmt.Errorf("consumer %s: %w", f.opts.Name, err)
	}
	cons, err := f.c.js.CreateConsumer(sctx, f.c.opts.Stream, jetstream.ConsumerConfig{
		Durable:        f.opts.Name,
		Description:    "procq replica",
		FilterSubjects: f.subj,
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    from,
		AckPolicy:      jetstream.AckExplicitPolicy,
		MaxAckPending:  1024,
	})
	if err != nil {
		return fmt.Errorf("consumer %s: %w", f.opts.Name, err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(256))
	if err != nil {
		return fmt.Errorf("consumer %s: %w", f.opts.Name, err)
	}
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	defer it.Stop()
	f.lastErr.Store(nil)
	f.c.log.Info("following the stream", "stream", f.c.opts.Stream, "consumer", f.opts.Name, "from", from, "subjects", f.subj)
	for {
		msg, err := it.Next()
		if err != nil {
			return fmt.Errorf("consumer %s: %w", f.opts.Name, err)
		}
		group, err := drain(it, msg)
		if err != nil {
			return fmt.Errorf("consumer %s: %w", f.opts.Name, err)
		}
		if err := f.handle(ctx, group); err != nil {
			return err
		}
	}
}

// Group commit: the messages already delivered when one is taken are
// applied with it as one store batch, up to maxGroup of them, so a
// replica catching up pays one journal write and sync for many messages
// (BenchmarkCatchUp). Each message stays whole: the group is applied
// whole or not at all, and its position is its last message's.
const (
	maxGroup     = 256
	maxGroupWait = 50 * time.Microsecond
)

// drain returns first and the messages delivered after it that are
// there already.
func drain(it jetstream.MessagesContext, first jetstream.Msg) ([]jetstream.Msg, error) {
	group := []jetstream.Msg{first}
	for len(group) < maxGroup {
		msg, err := it.Next(jetstream.NextMaxWait(maxGroupWait))
		if errors.Is(err, nats.ErrTimeout) {
			break
		}
		if err != nil {
			return group, err
		}
		group = append(group, msg)
	}
	return group, nil
}

// pending is a message taken apart: its stream sequence, ops, and the
// pending count its delivery carried.
type pending struct {
	msg     jetstream.Msg
	seq     uint64
	left    uint64
	ops     []store.Op
	invalid error
}

// handle applies a group of messages through the store as one batch,
// journaling the last one's stream sequence with it, then acknowledges
// them. Messages applied already (redeliveries) are only acknowledged.
// A message that is not a valid batch is skipped (logged): when the
// group fails as invalid, its messages are applied one at a time, and an
// invalid one is journaled as an empty batch, to move past it.
func (f *Follower) handle(ctx context.Context, group []jetstream.Msg) error {
	var ps []pending
	for _, msg := range group {
		md, err := msg.Metadata()
		if err != nil {
			return fmt.Errorf("message metadata: %w", err)
		}
		p := pending{msg: msg, seq: md.Sequence.Stream, left: md.NumPending}
		if p.seq <= f.Applied() || (len(ps) > 0 && p.seq <= ps[len(ps)-1].seq) {
			_ = msg.Ack()
			continue
		}
		p.ops, p.invalid = decodeOps(msg.Data(), p.seq)
		ps = append(ps, p)
	}
	if len(ps) == 0 {
		return nil
	}
	err := f.apply(ctx, ps)
	if errors.Is(err, store.ErrInvalidOp) && len(ps) > 1 {
		for i := range ps {
			if err := f.apply(ctx, ps[i:i+1]); err != nil {
				return err
			}
		}
		return nil
	}
	return err
}

// apply applies ps as one store batch and acknowledges them; a single
// invalid message is journaled as an empty batch.
func (f *Follower) apply(ctx context.Context, ps []pending) error {
	var ops []store.Op
	var invalid error
	for _, p := range ps {
		ops = append(ops, p.ops...)
		invalid = errors.Join(invalid, p.invalid)
	}
	last := ps[len(ps)-1]
	err := invalid
	if err == nil {
		_, err = f.st.ApplyStream(ctx, ops, last.seq)
	} else {
		err = fmt.Errorf("%w: %w", store.ErrInvalidOp, err)
	}
	if errors.Is(err, store.ErrInvalidOp) && len(ps) == 1 {
		f.c.log.Error("stream message is not a valid batch: skipped", "seq", last.seq, "subject", last.msg.Subject(), "err", err)
		_, err = f.st.ApplyStream(ctx, nil, last.seq)
	}
	if err != nil {
		// Not acknowledged: delivered again once the consumer is made again.
		return fmt.Errorf("apply stream messages up to %d: %w", last.seq, err)
	}
	for _, p := range ps {
		_ = p.msg.Ack() // a lost ack is a redelivery, which handle skips
	}
	f.lag.Store(last.left)
	f.total.Add(uint64(len(ps)))
	f.applied.set(last.seq)
	f.maybeUpload()
	return nil
}

// seqWatch is a stream sequence that grows, and its waiters.
type seqWatch struct {
	mu   sync.Mutex
	seq  uint64
	next chan struct{} // closed when seq grows
}

func (w *seqWatch) init(seq uint64) {
	w.mu.Lock()
	w.seq, w.next = seq, make(chan struct{})
	w.mu.Unlock()
}

func (w *seqWatch) get() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seq
}

func (w *seqWatch) set(seq uint64) {
	w.mu.Lock()
	w.seq = seq
	close(w.next)
	w.next = make(chan struct{})
	w.mu.Unlock()
}

// wait waits until seq is reached or ctx ends.
func (w *seqWatch) wait(ctx context.Context, seq uint64) error {
	for {
		w.mu.Lock()
		cur, next := w.seq, w.next
		w.mu.Unlock()
		if cur >= seq {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-next:
		}
	}
}
