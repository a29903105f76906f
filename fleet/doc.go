// Package fleet keeps a fleet of procq replicas in step through NATS
// JetStream: writers publish change batches to one ordered, replicated
// stream, replicas follow it into their own data directories (package
// store), and snapshots are shared through a JetStream object store so
// that a new replica joins without replaying the whole history. It is
// built on JetStream rather than on a protocol of procq's own: the stream
// is what orders, replicates and keeps the changes.
//
// # Subjects
//
// The stream (DefaultStream) holds subjects procq.changes.<bk_biz_id>. A
// batch is split by business: each business's ops become one message, in
// the change format of package store (JSON Lines, as procq apply reads),
// so that a replica applies it as one atomic batch. A delete or a status
// update names a process, not a business: the writer looks its business
// up in its own data when it can (a replica publishing its admin writes),
// and otherwise publishes it on procq.changes.any, which every replica
// follows and applies to the processes it holds (a replica holding none
// of them skips it, as a batch naming a missing process does).
//
// # Followers
//
// A replica follows the stream with a durable consumer of its own
// (Options.Name), filtered to its businesses (Options.Biz) and
// procq.changes.any, or to every subject. Each message is applied with
// store.ApplyStream, which journals the message's stream sequence with
// the batch; the message is acknowledged only then. On a restart the
// consumer is made again to start right after the sequence the store
// journaled, so nothing is lost and nothing applied twice, whatever the
// consumer's own acknowledgements say.
//
// # Snapshots
//
// The object store (DefaultBucket) holds one object, SnapshotObject: the
// newest snapshot, whose metadata names the stream sequence it covers
// (MetaStreamSeq). A replica whose data directory is empty, or whose
// journal stops before the first message the stream still holds, starts
// from it (Prepare). procq publish-snapshot and a replica started with
// Options.PublishCheckpoints upload it; an upload older than the object
// there is skipped.
//
// # Caveats
//
// A Follower runs a goroutine until Close (two with
// PublishCheckpoints, and one for each upload). A process moved from one
// business to another by an upsert is removed from a replica following
// only the old business by a delete, not by the upsert. While NATS is
// unreachable, publishes fail at once (no reconnect buffer), replicas
// serve what they hold and report it on /healthz; the client library
// reconnects without end.
package fleet

import "errors"

// Errors callers may branch on; the errors returned wrap them.
var (
	// ErrNotPublished: a publish was not acknowledged by the stream (NATS
	// unreachable, no JetStream, a timeout). Batches acknowledged before
	// it stay published.
	ErrNotPublished = errors.New("not published to the NATS JetStream stream")
	// ErrBehind: a replica's data directory stops before the first
	// message the stream still holds and no snapshot covers the gap.
	ErrBehind = errors.New("replica behind the stream and no snapshot covers the gap")
)
