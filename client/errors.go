package client

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors, for errors.Is. The errors returned carry the exact
// messages of the TypeScript client, which apps match on.
var (
	// ErrTimeout: an RPC ran out of time ("RPC "m" timed out after Nms"),
	// waited too long for a socket ("WebSocket was not ready within Nms"),
	// or the first connection took too long ("WebSocket did not connect
	// within Nms").
	ErrTimeout = errors.New("client: timeout")
	// ErrClosed: the client was closed ("WebSocket client closed", "WebSocket
	// client is closed", "WebSocket client closed before becoming ready").
	ErrClosed = errors.New("client: closed")
	// ErrConnectionLost: the socket dropped while the RPC was pending; the
	// message is the close reason, or "WebSocket closed". RPCs are never
	// re-sent: methods are not assumed to be idempotent.
	ErrConnectionLost = errors.New("client: connection lost")
	// ErrNotConnected: no socket and none coming ("WebSocket is not
	// connected"), e.g. after a drop with reconnect disabled.
	ErrNotConnected = errors.New("client: not connected")
	// ErrSend: the frame could not be written ("RPC "m" could not be sent").
	ErrSend = errors.New("client: send failed")
	// ErrServer: the server answered with an error; see ServerError.
	ErrServer = errors.New("client: server error")
	// ErrMessageTooBig: a message from the server exceeded the socket's
	// read limit. The client stops instead of reconnecting, since the
	// same snapshot would be too big again; raise the limit (CoderDialer).
	ErrMessageTooBig = errors.New("client: message too big")
)

// HandshakeError is a WebSocket handshake that the server answered with an
// HTTP status other than 101 Switching Protocols. A client error (4xx other
// than 408 Request Timeout and 429 Too Many Requests), such as 401 for a
// missing or rejected token, stops the client: Dial and Ready return this
// error at once, and Err reports it. Other statuses are retried like
// network errors. A custom Dialer returns one to get the same treatment.
type HandshakeError struct {
	StatusCode int
	Err        error // the dialer's error
}

// Error gives the status and the dialer's error.
func (e *HandshakeError) Error() string {
	return fmt.Sprintf("WebSocket handshake refused with HTTP %d: %v", e.StatusCode, e.Err)
}

// Unwrap returns the dialer's error.
func (e *HandshakeError) Unwrap() error { return e.Err }

// final reports whether retrying the handshake is pointless.
func (e *HandshakeError) final() bool {
	c := e.StatusCode
	return c >= 400 && c < 500 && c != 408 && c != 429
}

// stopCause reports whether err, from a dial or a read, means that
// reconnecting would fail the same way.
func stopCause(err error) bool {
	var he *HandshakeError
	return errors.As(err, &he) && he.final() || errors.Is(err, ErrMessageTooBig)
}

// errStopped is how calls fail once the client stopped for cause.
func errStopped(cause error) error {
	return fmt.Errorf("%w: %w", errNotConnected, cause)
}

// Error is an error of the client with its TS message.
type Error struct {
	Message string
	Kind    error
}

// Error returns the TS message.
func (e *Error) Error() string { return e.Message }

// Unwrap returns the sentinel.
func (e *Error) Unwrap() error { return e.Kind }

// ServerError is an rpc:result error: the server's message, verbatim.
type ServerError struct {
	Message string
}

// Error returns the server's message.
func (e *ServerError) Error() string { return e.Message }

// Is matches ErrServer.
func (e *ServerError) Is(target error) bool { return target == ErrServer }

func ms(d time.Duration) int64 { return d.Milliseconds() }

func errRPCTimeout(method string, d time.Duration) error {
	return &Error{fmt.Sprintf("RPC %q timed out after %dms", method, ms(d)), ErrTimeout}
}

func errNotReady(d time.Duration) error {
	return &Error{fmt.Sprintf("WebSocket was not ready within %dms", ms(d)), ErrTimeout}
}

func errConnectTimeout(d time.Duration) error {
	return &Error{fmt.Sprintf("WebSocket did not connect within %dms", ms(d)), ErrTimeout}
}

func errSend(method string) error {
	return &Error{fmt.Sprintf("RPC %q could not be sent", method), ErrSend}
}

var (
	errClientClosed      = &Error{"WebSocket client closed", ErrClosed}
	errClientIsClosed    = &Error{"WebSocket client is closed", ErrClosed}
	errClosedBeforeReady = &Error{"WebSocket client closed before becoming ready", ErrClosed}
	errNotConnected      = &Error{"WebSocket is not connected", ErrNotConnected}
)

func errLost(reason string) error {
	if reason == "" {
		reason = "WebSocket closed"
	}
	return &Error{reason, ErrConnectionLost}
}
