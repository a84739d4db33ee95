// Package natsstore is a zocket.Storage on NATS JetStream, for apps that
// run on several processes (transport/natscluster): every process reads and
// writes the same stream, and JetStream's per-subject sequence checks keep
// two processes from overwriting each other's changes.
//
// # Layout
//
// One stream (Options.Stream) holds two subjects per instance, named
// <prefix>.log.<actor>.<id> and <prefix>.alarms.<actor>.<id>, where actor
// and id are each one subject token ('_' then their unpadded URL-safe
// base64), so any string, empty or not, is a valid and distinct name.
//
// The log subject holds one message per Write, in a compact binary layout:
// the snapshot if any, the records, the alarms when the Write set them, the
// answers of calls stored with the snapshot and records (zocket.CallRecord,
// in the same message, so with the same atomicity; messages written before
// calls were stored have none) and the version after the Write. A Write with a snapshot is published with
// the header Nats-Rollup: sub, so the server drops the older messages of
// that subject: the first message of a log is its latest snapshot, and the
// bytes stored per record do not depend on the size of the state. Load
// reads the log's last message, then, unless it is a snapshot, the others
// in order, with direct gets (next message by subject); a log compacted or
// deleted meanwhile is read again.
//
// The alarms subject holds the instance's latest alarms (one message, also
// a rollup; an empty body for none). It is an index for Alarms, which reads
// the last message of every alarms subject with a consumer; Load takes the
// alarms from the log, where they are written in the same message as the
// records (a snapshot message repeats the current alarms), so each Write
// is atomic. That is why the Store also remembers each instance's alarms,
// and reads the whole log (not only its last message) of an instance it
// does not know before writing it. The layout is binary rather than JSON
// because encoding/json would rewrite the state and patches (compacted,
// HTML-escaped), and the Storage must give back the bytes it was given.
//
// # Concurrency
//
// Each log message is published with Nats-Expected-Last-Subject-Sequence:
// the sequence of the last message of that log as this Store knows it. The
// Store learns it from Load and from its own acks; for an instance it does
// not know (or when Expect is not the version it knows) it reads the log
// first. If another process wrote in between, the server refuses the
// message and the Write fails with zocket.ErrConflict; nothing is lost.
// A Write is checked against the stored version before anything is
// published. The messages of a batch are published asynchronously and
// their acks awaited together: one round trip per batch (two when a Write
// of the batch sets alarms or deletes, for the index and the purges, and
// one more per repeated instance in the batch, whose Writes must follow
// each other).
//
// With Replicas above 1, direct gets may be answered by a replica that
// lags the stream's leader, so a Load right after another process's Write
// may miss it: the next Write of the stale state is then refused with
// ErrConflict, never stored over the newer one.
//
// Delete publishes a tombstone rollup on the log, fenced like any Write,
// so it is atomic; it then purges the instance's alarms index and log. If
// that cleanup fails, the tombstone still makes Load see nothing, but
// Alarms may list the deleted instance.
//
// The alarms index is written once the log message is acked. If that
// fails (it is logged), the Write stands and the Store writes the index
// again with the instance's next Write; meanwhile, or if the process dies
// in between, Alarms may list stale alarms. The index only decides when
// the App looks at an instance, whose true alarms it then Loads from the
// log.
//
// # Large Writes
//
// A Write whose message would not fit a NATS message (Options.MaxMessage:
// the connection's max payload, 1 MiB by default, less room for headers)
// is stored in a JetStream Object Store bucket, <Stream>_LARGE, created by
// New with the stream's storage type and replicas, under a name of its
// own (the instance, the version and a random suffix). Its log message
// then holds only a reference: the object's name, size and SHA-256 digest,
// with the flags of the Write (a snapshot's still rolls up the subject).
// This covers a large state as well as large records, so any Write can be
// stored. The log message is still the commit point: the object is written
// first, and Load reads the objects that the log's messages refer to. A
// referenced object missing (or not the one referred to) fails Load with
// ErrCorrupt, naming the instance; nothing is overwritten.
//
// The Store deletes an object once no log message refers to it: when its
// own snapshot or Delete of the instance drops the message, and when the
// server refuses the message. Objects may be left in the bucket (and
// logged when a delete fails) when the process stops or loses NATS
// between writing an object and the end of the Write, or between a
// rollup and the deletes; one such object per interrupted Write. Each
// deleted object also leaves a small deletion marker in the bucket, as
// Object Stores do. A Write of an instance that the Store does not know
// reads its log, and so its objects, first.
//
// # Limits
//
// The stream and the bucket discard new messages, never old ones, when
// they reach MaxBytes.
//
// When NATS is unreachable, calls return errors once their context or
// Options.Timeout expires. The Store starts no goroutine; a message never
// acked stays pending in the JetStream context (the caller's) until its
// connection reconnects or closes, and the Store reads that instance's log
// again before its next Write, since the message may or may not be stored.
//
// # Measurements
//
// Measured on a 2-core machine shared with other work (two runs), against
// an in-process nats-server with file storage: a Write of 64 instances
// with one record each took 0.6 to 0.7 ms (about 10 µs per instance: one
// round trip for the batch). Load took 25 to 30 µs for an unknown instance
// (one direct get, as for a log that is just a snapshot), 0.3 to 0.4 ms
// for a snapshot and 10 record messages, 11 to 13.5 ms for a snapshot and
// 300. An ordered consumer read the same logs in 0.36 ms and 1.25 ms, but
// it creates a consumer on the server per Load (through the cluster's meta
// leader when clustered, and it must then be deleted), while direct gets
// are served by any replica; since the App's snapshots keep logs short,
// Load uses direct gets.
package natsstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/zocket-go/zocket"
)

// ErrInvalidOptions is wrapped by the error of New for invalid Options.
var ErrInvalidOptions = errors.New("natsstore: invalid options")

// ErrCorrupt is wrapped by the error of Load (and of a Write that needed to
// read the log) when a stored message cannot be decoded, or refers to an
// object that the bucket lacks or holds otherwise; nothing is overwritten.
var ErrCorrupt = errors.New("natsstore: corrupt message")

// ErrClosed is wrapped by the errors of a Store used after Close.
var ErrClosed = errors.New("natsstore: store closed")

// Defaults of Options.
const (
	DefaultStream          = "ZOCKET_STATE"
	DefaultPrefix          = "zocket.state"
	DefaultTimeout         = 10 * time.Second
	DefaultCachedInstances = 100_000
)

// Options configure a Store. The zero value is valid.
type Options struct {
	// Stream is the JetStream stream's name, made of letters, digits, '-'
	// and '_' (it names the bucket too); DefaultStream when empty.
	Stream string
	// Prefix begins every subject of the stream; DefaultPrefix when empty.
	// It must not overlap the subjects of another stream.
	Prefix string
	// Storage is where the stream and its bucket keep their messages:
	// jetstream.FileStorage (the default) or jetstream.MemoryStorage.
	Storage jetstream.StorageType
	// Replicas is the stream's and its bucket's number of replicas; 1 when
	// 0.
	Replicas int
	// MaxBytes caps the stream's size, and the bucket's; 0 for no cap.
	// Once it is reached, Writes fail.
	MaxBytes int64
	// MaxMessage is the largest body of a log message: a Write whose
	// encoding is larger goes to the bucket. When 0, the max payload of
	// js's connection, less 1 KiB for the headers.
	MaxMessage int
	// Timeout bounds each call of Load, Write and Alarms, within the
	// caller's context; DefaultTimeout when 0.
	Timeout time.Duration
	// CachedInstances bounds how many instances' last sequences the Store
	// remembers; DefaultCachedInstances when 0. A forgotten instance costs
	// a read of its log before its next Write.
	CachedInstances int
	// Logger receives what the Store cannot return: failures to update
	// the alarms index or to purge a deleted instance. None when nil.
	Logger *slog.Logger
}

func (o *Options) validate() error {
	if o.Stream == "" {
		o.Stream = DefaultStream
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.Replicas == 0 {
		o.Replicas = 1
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.CachedInstances == 0 {
		o.CachedInstances = DefaultCachedInstances
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case strings.ContainsAny(o.Stream, ".*>/\\ \t\r\n"):
		return fmt.Errorf("%w: stream name %q contains one of . * > / \\ or white space", ErrInvalidOptions, o.Stream)
	case !validPrefix(o.Prefix):
		return fmt.Errorf("%w: prefix %q is not a subject without wildcards or empty tokens", ErrInvalidOptions, o.Prefix)
	case !validBucket.MatchString(bucketName(o.Stream)):
		return fmt.Errorf("%w: stream name %q has characters other than letters, digits, - and _", ErrInvalidOptions, o.Stream)
	case o.MaxMessage < 0:
		return fmt.Errorf("%w: max message %d", ErrInvalidOptions, o.MaxMessage)
	case o.Storage != jetstream.FileStorage && o.Storage != jetstream.MemoryStorage:
		return fmt.Errorf("%w: storage %v", ErrInvalidOptions, o.Storage)
	case o.Replicas < 1 || o.Replicas > 5:
		return fmt.Errorf("%w: replicas %d, want 1 to 5", ErrInvalidOptions, o.Replicas)
	case o.MaxBytes < 0:
		return fmt.Errorf("%w: max bytes %d", ErrInvalidOptions, o.MaxBytes)
	case o.Timeout < 0:
		return fmt.Errorf("%w: timeout %v", ErrInvalidOptions, o.Timeout)
	case o.CachedInstances < 0:
		return fmt.Errorf("%w: cached instances %d", ErrInvalidOptions, o.CachedInstances)
	}
	return nil
}

// validBucket matches the names JetStream accepts for a bucket.
var validBucket = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

func validPrefix(p string) bool {
	for t := range strings.SplitSeq(p, ".") {
		if t == "" || t == "*" || t == ">" || strings.ContainsAny(t, " \t\r\n") {
			return false
		}
	}
	return true
}

// Store is a zocket.Storage on a JetStream stream. It is safe for
// concurrent use; concurrent Writes of one instance are fenced like the
// Writes of two processes.
type Store struct {
	js      jetstream.JetStream
	stream  jetstream.Stream
	objects jetstream.ObjectStore
	opts    Options

	mu    sync.Mutex
	known map[instanceKey]known
	// staleIndex holds the instances whose alarms index could not be
	// written after a Write; their next Write writes it again.
	staleIndex map[instanceKey]bool
	closed     bool
}

type instanceKey struct{ actor, id string }

// known is what the Store knows of an instance's log: the sequence of its
// last message (0: none), its version, its alarms and the objects of the
// bucket that its messages refer to.
type known struct {
	seq     uint64
	version uint64
	alarms  []zocket.Alarm
	objects []string
}

// New creates the stream of opts and its bucket (an Object Store named
// after the stream, <Stream>_LARGE, for the Writes too large for a
// message), or updates their configuration (so every process should pass
// the same Options), and returns a Store on them. The Store does not close
// js's connection.
func New(ctx context.Context, js jetstream.JetStream, opts Options) (*Store, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	stream, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:              opts.Stream,
		Description:       "zocket durable actor state",
		Subjects:          []string{opts.Prefix + ".log.>", opts.Prefix + ".alarms.>"},
		Storage:           opts.Storage,
		Replicas:          opts.Replicas,
		MaxBytes:          maxOrUnlimited(opts.MaxBytes),
		Discard:           jetstream.DiscardNew,
		MaxMsgsPerSubject: -1,
		AllowRollup:       true,
		AllowDirect:       true,
	})
	if err != nil {
		return nil, fmt.Errorf("natsstore: stream %s: %w", opts.Stream, err)
	}
	objects, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:      bucketName(opts.Stream),
		Description: "zocket durable actor state: the Writes too large for a message of " + opts.Stream,
		Storage:     opts.Storage,
		Replicas:    opts.Replicas,
		MaxBytes:    maxOrUnlimited(opts.MaxBytes),
	})
	if err != nil {
		return nil, fmt.Errorf("natsstore: bucket %s: %w", bucketName(opts.Stream), err)
	}
	return &Store{js: js, stream: stream, objects: objects, opts: opts, known: map[instanceKey]known{}, staleIndex: map[instanceKey]bool{}}, nil
}

func maxOrUnlimited(n int64) int64 {
	if n == 0 {
		return -1
	}
	return n
}

// Close implements zocket.Storage: later calls fail with ErrClosed. The
// stream and the connection stay.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	clear(s.known)
	return nil
}

func (s *Store) checkOpen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	return nil
}

func (s *Store) logSubject(k instanceKey) string {
	return s.opts.Prefix + ".log." + token(k.actor) + "." + token(k.id)
}

func (s *Store) alarmsSubject(k instanceKey) string {
	return s.opts.Prefix + ".alarms." + token(k.actor) + "." + token(k.id)
}

// lookup returns what the Store knows of k.
func (s *Store) lookup(k instanceKey) (known, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	kn, ok := s.known[k]
	return kn, ok
}

// remember records kn for k unless the Store knows a later message, and
// forgets an arbitrary instance when it knows too many.
func (s *Store) remember(k instanceKey, kn known) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if old, ok := s.known[k]; ok && old.seq > kn.seq {
		return
	}
	if len(s.known) >= s.opts.CachedInstances {
		for other := range s.known {
			delete(s.known, other)
			break
		}
	}
	s.known[k] = kn
}

func (s *Store) forget(k instanceKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.known, k)
}

// setStaleIndex records whether the alarms index of k lags its log.
func (s *Store) setStaleIndex(k instanceKey, stale bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if stale {
		s.staleIndex[k] = true
	} else {
		delete(s.staleIndex, k)
	}
}

func (s *Store) isStaleIndex(k instanceKey) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.staleIndex[k]
}
