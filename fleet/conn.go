package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procq/procq/store"
)

// Defaults of the Options fields left zero.
const (
	DefaultStream         = "PROCQ_CHANGES"
	DefaultBucket         = "procq-snapshots"
	DefaultPublishTimeout = 5 * time.Second
	DefaultConnectTimeout = 5 * time.Second
)

// Options configures a connection to a fleet's NATS JetStream.
type Options struct {
	// URL is the NATS server (or a comma-separated list of a cluster's).
	URL string
	// Stream and Bucket name the change stream and the snapshot object
	// store; "" means DefaultStream and DefaultBucket.
	Stream, Bucket string
	// Replicas is the number of copies JetStream keeps of the stream and
	// the bucket when it creates them (1 for a single server, 3 for a
	// cluster of three); 0 means 1.
	Replicas int
	// PublishTimeout bounds the wait for the stream's acknowledgements of
	// one publish; 0 means DefaultPublishTimeout.
	PublishTimeout time.Duration
	// ConnectTimeout bounds the first connection and the making of the
	// stream and bucket; 0 means DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// Logger receives what the connection and a follower do; nil
	// discards it.
	Logger *slog.Logger
}

// Conn is a connection to a fleet's stream and snapshot bucket. Its
// methods are safe for concurrent use.
type Conn struct {
	opts Options
	log  *slog.Logger
	nc   *nats.Conn
	js   jetstream.JetStream
	obs  jetstream.ObjectStore
}

// Connect connects to NATS at opts.URL and makes the stream and the
// snapshot bucket when they are missing.
func Connect(ctx context.Context, opts Options) (*Conn, error) {
	if opts.Stream == "" {
		opts.Stream = DefaultStream
	}
	if opts.Bucket == "" {
		opts.Bucket = DefaultBucket
	}
	if opts.Replicas <= 0 {
		opts.Replicas = 1
	}
	if opts.PublishTimeout <= 0 {
		opts.PublishTimeout = DefaultPublishTimeout
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = DefaultConnectTimeout
	}
	c := &Conn{opts: opts, log: opts.Logger}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	nc, err := nats.Connect(opts.URL, nats.Name("procq"), nats.Timeout(opts.ConnectTimeout),
		nats.MaxReconnects(-1), nats.ReconnectBufSize(-1), // a publish while disconnected fails at once
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { c.log.Warn("NATS disconnected", "err", err) }),
		nats.ReconnectHandler(func(nc *nats.Conn) { c.log.Info("NATS reconnected", "url", nc.ConnectedUrlRedacted()) }))
	if err != nil {
		return nil, fmt.Errorf("nats %s: %w", opts.URL, err)
	}
	c.nc = nc
	if err := c.setUp(ctx); err != nil {
		nc.Close()
		return nil, fmt.Errorf("nats %s: %w", opts.URL, err)
	}
	return c, nil
}

// setUp makes the stream and the bucket.
func (c *Conn) setUp(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.ConnectTimeout)
	defer cancel()
	js, err := jetstream.New(c.nc)
	if err != nil {
		return err
	}
	c.js = js
	_, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        c.opts.Stream,
		Description: "procq change batches, one message per business",
		Subjects:    []string{SubjectPrefix + ">"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Replicas:    c.opts.Replicas,
	})
	if err != nil {
		return fmt.Errorf("stream %s: %w", c.opts.Stream, err)
	}
	c.obs, err = js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:      c.opts.Bucket,
		Description: "procq snapshots",
		Storage:     jetstream.FileStorage,
		Replicas:    c.opts.Replicas,
	})
	if err != nil {
		return fmt.Errorf("object store %s: %w", c.opts.Bucket, err)
	}
	return nil
}

// Close closes the connection.
func (c *Conn) Close() { c.nc.Close() }

// Connected reports whether the connection to NATS is up.
func (c *Conn) Connected() bool { return c.nc.IsConnected() }

// PublishResult describes a publish the stream acknowledged.
type PublishResult struct {
	// Seq is the stream sequence of the last message; a replica that has
	// applied it holds the whole batch (X-Procq-Min-Seq).
	Seq uint64
	// Messages is the number of messages (businesses) the batch became.
	Messages int
}

// Publish publishes ops as one message per business (see the package
// doc), looking up the business of deletes and status updates with
// lookup when it is not nil, and returns once the stream has acknowledged
// every message. An error wraps ErrNotPublished; the messages
// acknowledged before it stay published.
func (c *Conn) Publish(ctx context.Context, ops []store.Op, lookup BizLookup) (PublishResult, error) {
	var res PublishResult
	if len(ops) == 0 {
		return res, nil
	}
	if !c.nc.IsConnected() {
		return res, fmt.Errorf("%w: NATS %s is not connected (%s)", ErrNotPublished, c.opts.URL, c.nc.Status())
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.PublishTimeout)
	defer cancel()
	for _, m := range split(ops, lookup) {
		ack, err := c.js.Publish(ctx, m.subject, encodeOps(m.ops))
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				err = fmt.Errorf("no acknowledgement within %s: %w", c.opts.PublishTimeout, err)
			}
			return res, fmt.Errorf("%w: %s (%d of %d ops), after %d messages: %w", ErrNotPublished, m.subject, len(m.ops), len(ops), res.Messages, err)
		}
		res.Seq = ack.Sequence
		res.Messages++
	}
	return res, nil
}
