// Package protocol is the Zocket wire format: the JSON messages exchanged
// between a client and a server over one WebSocket, their builders, and Parse.
//
// Every message is one JSON object with a string member "type". Parse reads
// any message of either direction and reports, with an error wrapping
// ErrIgnore, the frames that a receiver must ignore
// silently (invalid JSON, not an object, missing or unknown type).
//
// The Append* builders write a message into a byte slice without reflection;
// member order follows the TypeScript server so frames diff cleanly against it.
// This package imports nothing else of the project.
package protocol

import (
	"encoding/json"
	"errors"
)

// Type is the value of a message's "type" member.
type Type string

// Message types, client to server.
const (
	TypeRPC        Type = "rpc"
	TypeEventSub   Type = "event:sub"
	TypeEventUnsub Type = "event:unsub"
	TypeStateSub   Type = "state:sub"
	TypeStateUnsub Type = "state:unsub"
)

// Message types, server to client.
const (
	TypeWelcome       Type = "welcome"
	TypeRPCResult     Type = "rpc:result"
	TypeRPCStream     Type = "rpc:stream"
	TypeEvent         Type = "event"
	TypeStateSnapshot Type = "state:snapshot"
	TypeStatePatch    Type = "state:patch"
)

// Known reports whether t is a message type of the protocol.
func (t Type) Known() bool {
	switch t {
	case TypeRPC, TypeEventSub, TypeEventUnsub, TypeStateSub, TypeStateUnsub,
		TypeWelcome, TypeRPCResult, TypeRPCStream, TypeEvent, TypeStateSnapshot, TypeStatePatch:
		return true
	}
	return false
}

// ErrIgnore is wrapped by every Parse error for a frame that the receiver
// must ignore without answering.
var ErrIgnore = errors.New("protocol: frame ignored")

// ErrField is wrapped by the Parse error for a message of a known type whose
// addressing members (actor, actorId, method) are missing or not strings.
// The returned Message still carries the type and id, so a server can answer
// an rpc with an error result.
var ErrField = errors.New("protocol: invalid member")

// Op is one JSON Patch (RFC 6902) operation as carried by state:patch.
// Value is absent for "remove".
type Op struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value,omitempty"`
}

// Patch operation names emitted by servers.
const (
	OpAdd     = "add"
	OpReplace = "replace"
	OpRemove  = "remove"
)

// Message is any parsed message. Which members are meaningful depends on Type;
// raw JSON members are nil when absent on the wire.
type Message struct {
	Type Type

	// ID is the rpc id, kept verbatim (any JSON value); nil when absent.
	ID json.RawMessage
	// Actor and ActorID address an instance (rpc, subscriptions, event, state).
	Actor   string
	ActorID string
	// Method and Input belong to rpc. Input is nil when the key is absent.
	Method string
	Input  json.RawMessage
	// TraceParent and TraceState are an rpc's optional W3C trace context
	// (the "traceparent" and "tracestate" members, a Go extension): the
	// caller's span, which the call continues. "" when absent or not a
	// string.
	TraceParent string
	TraceState  string

	// ClientID belongs to welcome.
	ClientID string

	// Result, Error and HasError belong to rpc:result. Result is nil when
	// the key is absent; HasError is set when "error" is a string (even "").
	Result   json.RawMessage
	Error    string
	HasError bool

	// Chunk belongs to rpc:stream.
	Chunk json.RawMessage

	// Event and Payload belong to event. Payload is nil when absent.
	Event   string
	Payload json.RawMessage

	// State belongs to state:snapshot; Patches to state:patch.
	State   json.RawMessage
	Patches []Op

	// Version and Epoch place a state:snapshot or state:patch in the
	// instance's history, and on state:sub name the state the client has
	// (resume). Both are optional members, a Go extension that clients and
	// servers not knowing them ignore: HasVersion is false when "version"
	// is absent or not a non-negative integer; Epoch is "" when absent or
	// not a string.
	Version    uint64
	HasVersion bool
	Epoch      string
}
