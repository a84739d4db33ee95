package zocket

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrConflict is wrapped by the error of a Write whose Expect is not the
// version the Storage holds: another writer got there first. Nothing of
// that Write was stored.
var ErrConflict = errors.New("zocket: storage version conflict")

// Storage keeps the state of durable actors (WithStorage) across
// passivation and restarts. Per instance it holds a log of committed
// changes and, for compaction, snapshots: the latest snapshot plus the
// records after it give the latest state. Every record carries the
// instance's version, one more per commit, kept across activations.
//
// A record also carries the answers of the rpc calls whose changes it
// holds (Record.Calls), and a snapshot the answers of the instance's
// recent calls (Snapshot.Calls): stored in the same Write as the change,
// they let any App that later loads the instance answer a call delivered
// again (after a crash, to another process) without running it twice.
//
// The App calls Write from one goroutine at a time, with the changes of
// many instances together (group commit); Load and Alarms may come from
// other goroutines meanwhile. Implementations: storage/memstore (tests),
// storage/diskstore (one process, embedded), storage/natsstore (JetStream,
// many processes). storage/storagetest checks an implementation against
// this contract.
type Storage interface {
	// Load returns what is stored for instance (actor, id): its latest
	// snapshot, the records after it in version order, and its alarms.
	// For an instance never written (or deleted) it returns a zero Stored
	// and nil.
	Load(ctx context.Context, actor, id string) (Stored, error)

	// Write makes every Write of batch durable before it returns, each one
	// atomically: all of it or nothing. It returns nil when every Write was
	// stored, else a slice with one error per Write, nil for the Writes
	// stored. A Write whose Expect is not the stored version fails with an
	// error wrapping ErrConflict. Writes for distinct instances are
	// independent: a conflict on one does not fail the others.
	Write(ctx context.Context, batch []Write) []error

	// Alarms returns the alarms of every instance that has some, so that
	// the App can reactivate instances whose alarms fall due.
	Alarms(ctx context.Context) ([]InstanceAlarms, error)

	// Close releases the Storage. The App does not close a Storage it was
	// given.
	Close() error
}

// Stored is what a Storage holds for one instance.
type Stored struct {
	// Version is the instance's latest version; 0 when nothing is stored.
	Version uint64
	// Snapshot is the latest snapshot, nil when none was written.
	Snapshot *Snapshot
	// Records are the changes after Snapshot (after version 0 when there
	// is none), in version order, up to Version.
	Records []Record
	// Alarms are the instance's pending alarms.
	Alarms []Alarm
}

// Snapshot is an instance's whole state at a version.
type Snapshot struct {
	Version uint64
	// State is the state as a JSON object.
	State json.RawMessage
	// Epoch names the instance's history: the App draws a new one when an
	// instance starts from nothing, and keeps it in every snapshot, so
	// that clients can tell versions of one history from another's.
	Epoch string
	// Calls are the instance's recent calls at Version, oldest first: the
	// calls of the records the snapshot replaces are kept with it.
	Calls []CallRecord
}

// Record is one commit: the change from version Version-1 to Version.
type Record struct {
	Version uint64
	// Patch is a JSON array of RFC 6902 operations (add, remove, replace),
	// as sent to subscribers in state:patch.
	Patch json.RawMessage
	// Calls are the rpc calls this commit answered: their changes are in
	// Patch. Usually none or one.
	Calls []CallRecord
}

// CallRecord is the answer a client received to an rpc call whose
// changes the Storage holds, so that the same call, delivered again, is
// answered from it instead of running twice.
type CallRecord struct {
	// Key names the call: the caller's connection id, a zero byte, then
	// the rpc id exactly as the client sent it (JSON).
	Key string
	// Result is the encoded result the caller received in rpc:result; nil
	// when the method returns none.
	Result json.RawMessage
	// Error is the error text the caller received instead; "" when the
	// call succeeded.
	Error string
}

// CallBytes is the size of calls: the bytes of their keys, results and
// error texts.
func CallBytes(calls []CallRecord) int {
	n := 0
	for _, c := range calls {
		n += len(c.Key) + len(c.Result) + len(c.Error)
	}
	return n
}

// Write is the durable part of one or more commits of one instance.
type Write struct {
	Actor, ID string
	// Expect is the version the Storage must hold for the instance (0: none
	// stored); any other fails the Write with ErrConflict.
	Expect uint64
	// Snapshot, when set, is the state at Snapshot.Version; the Storage may
	// then drop every record and snapshot older than it (compaction).
	Snapshot *Snapshot
	// Records follow Snapshot (or Expect, without one) with consecutive
	// versions. The instance's version after the Write is the last
	// record's, else the snapshot's, else Expect.
	Records []Record
	// SetAlarms replaces the instance's alarms with Alarms.
	SetAlarms bool
	Alarms    []Alarm
	// Delete removes everything stored for the instance (after the Expect
	// check); the other fields are ignored.
	Delete bool
}

// Version is the instance's version after w.
func (w *Write) Version() uint64 {
	switch {
	case len(w.Records) > 0:
		return w.Records[len(w.Records)-1].Version
	case w.Snapshot != nil:
		return w.Snapshot.Version
	}
	return w.Expect
}

// ErrInvalidWrite is wrapped by the error of a Write whose versions do not
// follow its Expect: a snapshot older than Expect, or records that are not
// consecutive after the snapshot (or after Expect).
var ErrInvalidWrite = errors.New("zocket: invalid storage write")

// Check reports, wrapping ErrInvalidWrite, a Write whose versions do not
// follow Expect. Storage implementations call it before writing.
func (w *Write) Check() error {
	next := w.Expect + 1
	if w.Snapshot != nil {
		if w.Snapshot.Version < w.Expect {
			return fmt.Errorf("%w: %s/%s: snapshot version %d is older than %d", ErrInvalidWrite, w.Actor, w.ID,
				w.Snapshot.Version, w.Expect)
		}
		next = w.Snapshot.Version + 1
	}
	for _, r := range w.Records {
		if r.Version != next {
			return fmt.Errorf("%w: %s/%s: record version %d, want %d", ErrInvalidWrite, w.Actor, w.ID, r.Version, next)
		}
		next++
	}
	return nil
}

// Alarm is a method call scheduled at a time, stored with its instance
// (MethodDef.At).
type Alarm struct {
	ID     uint64
	At     time.Time
	Method string
	// Input is the method's JSON input; nil for none.
	Input json.RawMessage
}

// InstanceAlarms are the alarms of one instance.
type InstanceAlarms struct {
	Actor, ID string
	Alarms    []Alarm
}
