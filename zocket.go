// Package zocket builds realtime applications from live, stateful actors.
//
// An App registers actor types by name. Each instance, addressed by
// (name, id), is created on first use, owns typed state, runs its methods one
// at a time (a single-writer mailbox), emits typed events, and keeps every
// subscribed client in sync with a snapshot and then JSON patches. The wire
// protocol is the one of the TypeScript Zocket (@zocket/client and
// @zocket/react work unchanged against a Go server).
//
// Define state, methods and events once, with types:
//
//	type Message struct {
//		From string `json:"from"`
//		Text string `json:"text" validate:"required,max=2000"`
//	}
//	type Room struct {
//		Messages []Message `json:"messages"`
//	}
//
//	var NewMessage = zocket.Event[Message]("newMessage")
//
//	var Send = zocket.Method("sendMessage",
//		func(c *zocket.Context[Room, zocket.NoData], in Message) (int, error) {
//			c.State.Messages = append(c.State.Messages, in)
//			NewMessage.Broadcast(c, in)
//			return len(c.State.Messages), nil
//		})
//
//	app := zocket.NewApp().Register("chat", zocket.NewActor[Room]().Methods(Send).Events(NewMessage))
//
// Serve it over WebSockets with transport/wshttp, call it from your own
// code with App.Invoke or a method descriptor's Invoke, and test it without
// sockets with NewLocalConn.
//
// # Semantics
//
// Each instance runs one mailbox item at a time, in arrival order: method
// calls, lifecycle hooks, server-side invocations. Different instances run in
// parallel; an idle instance holds no goroutine. Handler code needs no locks,
// but must not touch the state from other goroutines.
//
// Methods are atomic: a handler runs against a deep copy of the committed
// state (the draft); an error or a panic discards the draft, its events and
// its patches. On success the draft becomes the state and, only if someone is
// subscribed, it is diffed against the previous state into one state:patch
// (RFC 6902, paths escaped per RFC 6901, array adds only at the end), sent
// before the call's events, which are sent before its rpc:result. A patch
// over 1 KiB that outweighs the whole state is replaced by a fresh snapshot.
// The state is its exported JSON fields. Unexported fields are copied as
// values, so registration rejects a state type with an unexported field
// holding references (a map, slice or pointer), whose changes a failed call
// could not undo; an exported field tagged `json:"-"` is copied deeply and
// stays off the wire.
//
// Cost: a call deep-copies the state and, with subscribers, compares old
// and new state. A slice of values without references (strings allowed) is
// copied with one memmove into the memory of the state the previous call
// replaced, and compared with memcmp over unchanged runs, so a 100,000-item
// list costs a copy, not an allocation. Both grow with the state's size;
// encoding and allocation grow only with the change. An instance nobody
// ever subscribed to, and not durable, does no diff and no encoding at all. BENCHMARKS.md has the figures.
// Because state memory is reused, a handler must not keep references into
// the state beyond its call (copy what it wants to keep).
//
// Results and events are encoded like encoding/json, except that nil slices
// and maps go out as [] and {} and NaN or infinite floats as null. A handler
// returning a nil interface value sends no "result" member; return
// json.RawMessage("null") or a nil pointer for an explicit null.
//
// # Durability
//
// Without a Storage, instances live in memory. WithStorage(s) makes actor
// types durable: an instance loads its state (the latest snapshot plus the
// records after it) when it activates, and each commit is stored as the
// patch it produced. Gated instances (the default) hold a call's outputs
// until its change is stored, while the next call runs and the changes of
// many instances are written together; Relaxed ones write behind. Idle
// instances are passivated (Actor.IdleTimeout), WithMaxInstances bounds
// memory, and MethodDef.At schedules alarms stored with the instance.
// storage/diskstore, storage/natsstore and storage/memstore implement
// Storage.
//
// Deviations from the TypeScript server, all deliberate (docs/protocol.md):
// failing lifecycle hooks are logged and skipped instead of wedging the
// instance; onActivate finishes before any message is handled; patch paths
// are escaped; an empty error message is sent as "Unknown error"; unsub
// messages never create instances; messages from closed connections are
// ignored. Where the TS schema library would fill defaults, Go input types
// may implement Defaulter.
package zocket

import "errors"

// Identity is what a transport's authentication attached to a connection.
// The zero value is an anonymous connection.
type Identity struct {
	// UserID is the authenticated user, "" when there is none.
	UserID string
	// Claims are the token claims, nil when there are none.
	Claims map[string]any
	// Namespace names the tenant the connection belongs to (workspaceId
	// and projectId in the distributed mode), nil when there is none.
	Namespace map[string]string
}

// Connection is one client connection as a transport presents it.
//
// Send must not block: a transport queues the frame and returns; when the
// client cannot keep up it closes the connection and returns an error.
// The frame may be shared by many connections: Send must not modify it, and
// may keep it until written.
type Connection interface {
	ID() string
	Send(frame []byte) error
	Identity() Identity
}

// Closer is optionally implemented by a Connection that the server can
// close: CloseWith writes what is queued, then closes the connection with
// the WebSocket close code and reason (RFC 6455); the transport then calls
// Handler.OnClose as for any closed connection. The App closes connections
// through it when it refuses them (App closed) and for Handler.Disconnect.
// A Connection without it is only forgotten on the server side.
type Closer interface {
	CloseWith(code int, reason string)
}

// Close codes the server uses when it closes a connection (RFC 6455).
const (
	// CloseGoingAway (1001) closes connections that arrive after App.Close.
	CloseGoingAway = 1001
	// ClosePolicyViolation (1008) is the code of Handler.Disconnect.
	ClosePolicyViolation = 1008
)

// Flusher is optionally implemented by a Connection that lets the caller
// do the writing. The App uses it to answer a call without waking another
// goroutine: it queues the rpc:result with Queue while the instance is
// busy and, once the instance has no more work and is released, calls
// Flush(true) so the finished mailbox goroutine writes the frame itself
// (blocking on a slow peer then delays nobody but that peer). With more
// work queued it calls Flush(false) instead, which must hand the frames to
// the connection's writer and return at once.
type Flusher interface {
	// Queue adds frame to the outbound queue like Send, without waking
	// the connection's writer.
	Queue(frame []byte) error
	// Flush makes queued frames go out: written on the calling goroutine
	// when inline is true and no other goroutine is writing, handed to the
	// connection's writer otherwise.
	Flush(inline bool)
}

// StateQueuer is optionally implemented by a Flusher whose outbound queue
// can refuse state frames rather than overflow. The App then drops the
// state frames a slow subscriber cannot take, marks its subscription stale
// and, once the queue has drained, brings it up to date with the patches
// since the last frame it took (or a snapshot): a slow subscriber is
// resynchronised, not disconnected. Results and events, which cannot be
// sent again, still close a connection whose queue overflows.
type StateQueuer interface {
	// QueueState queues a state frame (state:snapshot or state:patch) like
	// Queue, unless the queue is at or above its high-water mark (half of
	// its bound in frames or in bytes); it reports whether it queued it.
	// A refused frame changes nothing.
	QueueState(frame []byte) bool
	// OnDrained calls fn once when the queue is below its low-water mark
	// (a quarter of its bounds), or the connection closed: at once, on
	// the calling goroutine, when it already is; later on any goroutine,
	// with no lock of the connection held. The App holds no lock when it
	// calls OnDrained.
	OnDrained(fn func())
}

// TryFlusher is optionally implemented by a Flusher that can write without
// blocking: TryFlush writes what the socket accepts at once and hands the
// rest to the connection's writer. The App uses it to wake no goroutine when
// sending a call's frames to other subscribers.
type TryFlusher interface {
	TryFlush()
}

// Sentinel errors, for errors.Is.
var (
	// ErrUnknownActor: no actor type is registered under the name.
	ErrUnknownActor = errors.New("zocket: unknown actor")
	// ErrUnknownMethod: the actor declares no method of that name.
	ErrUnknownMethod = errors.New("zocket: unknown method")
	// ErrValidation: the input did not decode or failed validation.
	ErrValidation = errors.New("zocket: validation failed")
	// ErrPanic: the call panicked anywhere in its pipeline (decoding,
	// validation, middleware, guards, the handler, the commit or the
	// delivery of its frames); the caller
	// receives the generic "Unknown error" (as TS does for anything thrown
	// that is not an Error) and the stack goes to the log.
	ErrPanic = errors.New("zocket: handler panicked")
	// ErrEncode: the handler's result could not be encoded as JSON.
	ErrEncode = errors.New("zocket: result not encodable")
	// ErrClosed: the App is closed.
	ErrClosed = errors.New("zocket: app closed")
	// ErrNotFound: no such active instance.
	ErrNotFound = errors.New("zocket: instance not found")
	// ErrInternal: the call failed inside zocket itself (a bug of zocket
	// or of a transport); the caller receives "Internal error" and the
	// details go to the log.
	ErrInternal = errors.New("zocket: internal error")
)

// CallError is the error of a call that the framework rejected (unknown
// actor or method, panic, unencodable result). Its Error text is exactly what
// the caller receives on the wire; errors.Is matches its Kind sentinel.
type CallError struct {
	Message string
	Kind    error
}

// Error returns the message the caller receives.
func (e *CallError) Error() string { return e.Message }

// Unwrap returns the sentinel.
func (e *CallError) Unwrap() error { return e.Kind }
