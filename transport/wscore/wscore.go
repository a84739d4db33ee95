// Package wscore is what every zocket WebSocket server transport shares,
// whatever library does its framing: the common Options with their
// defaults and validation, admission (origin check and authentication
// before the upgrade), the close codes and reasons a server sends, the
// errors a connection's Send returns, client ids, the accounting of a
// connection's outbound queue (Backlog) and of a server's
// connections together (QueueStats), and the lifecycle of Serve.
//
// transport/wshttp (github.com/coder/websocket) and transport/wsepoll
// (github.com/gobwas/ws) are built on it; a transport of your own can be
// too, so that it behaves like them:
//
//	opts = opts.WithDefaults()           // after opts.Validate()
//	identity, status, err := opts.Admit(r)
//	if err != nil {
//		http.Error(w, err.Error(), status)
//		return
//	}
//	... upgrade, then zocket.Handler.OnConnection with a connection whose
//	    id comes from a ClientIDs ...
package wscore

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/zocket-go/zocket"
)

// Defaults of the Options a zero value stands for.
const (
	DefaultReadLimit    = 1 << 20
	DefaultPingInterval = 30 * time.Second
	DefaultPingTimeout  = 15 * time.Second
	DefaultSendQueue    = 1024
	// DefaultSendQueueBytes leaves room for a few state snapshots of
	// several megabytes while bounding what a stalled client holds.
	DefaultSendQueueBytes = 16 << 20
	DefaultWriteTimeout   = 10 * time.Second
)

// Options are the settings every WebSocket server transport has. A zero
// field means its default; a negative one is an error (Validate), except
// PingInterval, where it disables pings.
type Options struct {
	// OriginPatterns lists the host patterns (path.Match syntax) of
	// browser origins allowed besides the request's own host. Empty means
	// same-origin only. Requests without an Origin header (non-browser
	// clients) are always allowed. A refused origin is logged at warn
	// level.
	OriginPatterns []string
	// Authenticate, if set, runs before the upgrade, after the origin
	// check; an error refuses the upgrade with the error's status (an
	// *HTTPError) or 401.
	Authenticate func(*http.Request) (zocket.Identity, error)
	// ReadLimit is the largest accepted message in bytes (default 1 MiB).
	// A larger one closes the connection with 1009 (message too big).
	ReadLimit int64
	// PingInterval is how often an idle peer is pinged (default 30s;
	// negative disables pings). A peer that does not answer within
	// PingTimeout (default 15s) is dropped, so a vanished client still
	// gets its onDisconnect.
	PingInterval time.Duration
	// PingTimeout is how long a pinged peer has to answer (default 15s).
	PingTimeout time.Duration
	// SendQueue bounds a connection's outbound queue in frames (default
	// 1024). A frame queued while the queue holds SendQueue frames closes
	// the connection with 1008 (policy violation) and ReasonSlowConsumer.
	// A frame counts from the moment it is queued until it is written to
	// the socket.
	SendQueue int
	// SendQueueBytes bounds a connection's outbound queue in bytes of
	// payload (default 16 MiB): a frame queued while the queue holds
	// SendQueueBytes bytes or more closes the connection like SendQueue.
	// The bound is checked before the frame is added, so the queue may
	// exceed it by one frame, and a single frame larger than the bound
	// (a big state snapshot) still goes out when the queue is below it.
	//
	// State frames queued with zocket.StateQueuer.QueueState are refused,
	// and the connection stays open, from the high-water mark on: half
	// of SendQueue frames or half of SendQueueBytes bytes. OnDrained
	// callbacks run once the queue is below its low-water mark, a quarter
	// of both bounds (Backlog).
	SendQueueBytes int
	// OnSlowConsumer, if set, is called with the client id of each
	// connection closed as a slow consumer, for metrics (otelzocket's
	// Observer.SlowConsumerClosed fits). It must not block.
	OnSlowConsumer func(clientID string)
	// WriteTimeout is how long a close the server asked for (slow
	// consumer, shutdown) may wait behind a peer that does not read before
	// the socket is dropped (default 10s).
	WriteTimeout time.Duration
	// Logger receives connection-level logs (default: discard).
	Logger *slog.Logger
}

// ErrInvalidOptions is wrapped by the errors of Validate.
var ErrInvalidOptions = errors.New("wscore: invalid options")

// Validate reports every invalid field, each error wrapping
// ErrInvalidOptions.
func (o Options) Validate() error {
	return errors.Join(
		NotNegative("ReadLimit", o.ReadLimit),
		NotNegative("PingTimeout", o.PingTimeout),
		NotNegative("SendQueue", o.SendQueue),
		NotNegative("SendQueueBytes", o.SendQueueBytes),
		NotNegative("WriteTimeout", o.WriteTimeout),
	)
}

// NotNegative returns an error wrapping ErrInvalidOptions if the option
// field name has a negative value v, and nil otherwise: for transports
// validating options of their own.
func NotNegative[T ~int | ~int64](name string, v T) error {
	if v < 0 {
		return fmt.Errorf("%w: %s is %v; it must be positive, or zero for the default", ErrInvalidOptions, name, v)
	}
	return nil
}

// WithDefaults returns o with every zero field replaced by its default.
func (o Options) WithDefaults() Options {
	o.ReadLimit = Default(o.ReadLimit, DefaultReadLimit)
	o.PingInterval = Default(o.PingInterval, DefaultPingInterval)
	o.PingTimeout = Default(o.PingTimeout, DefaultPingTimeout)
	o.SendQueue = Default(o.SendQueue, DefaultSendQueue)
	o.SendQueueBytes = Default(o.SendQueueBytes, DefaultSendQueueBytes)
	o.WriteTimeout = Default(o.WriteTimeout, DefaultWriteTimeout)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Default returns v, or def if v is zero.
func Default[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Close codes a server sends (RFC 6455 close status codes).
const (
	StatusGoingAway       = 1001 // the server is shutting down
	StatusProtocolError   = 1002 // the peer broke the framing rules
	StatusPolicyViolation = 1008 // the peer fell too far behind
	StatusMessageTooBig   = 1009 // a message exceeded ReadLimit
)

// Close reasons sent by the server.
const (
	ReasonSlowConsumer = "slow consumer: outbound queue full"
	ReasonShutdown     = "server shutting down"
)

// Errors returned by a connection's Send.
var (
	// ErrSlowConsumer: the outbound queue was full (Options.SendQueue or
	// Options.SendQueueBytes); the connection is being closed with
	// StatusPolicyViolation.
	ErrSlowConsumer = errors.New("wscore: slow consumer")
	// ErrClosed: the connection is closed or closing.
	ErrClosed = errors.New("wscore: connection closed")
)
