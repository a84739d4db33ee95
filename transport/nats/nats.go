// Package nats runs zocket in the distributed mode of NATS.md: stateless
// gateways terminate WebSockets and authorize sessions, runtimes host the
// actors, and NATS JetStream connects them. Subjects, streams, consumers
// and envelopes are those of the TypeScript gateway and runtime, so a Go
// runtime works behind a TypeScript gateway and the reverse.
//
//	client ─WS─► Gateway ─JetStream─► INBOUND ─pull consumer per actor type─► Runtime ─► App
//	client ◄─WS─ Gateway ◄─ordered consumer per session─ OUTBOUND ◄─JetStream─┘
//
// Where the TypeScript version has gaps (NATS.md §11), this package fixes
// the ones users notice:
//
//   - The gateway sends welcome as soon as the socket opens (G1), with the
//     session id the runtime uses as client id.
//   - Subject tokens are validated (G15); an rpc with an unroutable actor
//     or id, or one the gateway could not publish (G12), gets an
//     rpc:result error instead of a silent timeout.
//   - The authorize response is validated, and the call is bounded by a
//     timeout (G18).
//   - The runtime runs the instances of one actor type in parallel, each
//     instance in order (G3); acks an rpc once its result is published,
//     keeps long calls alive with in-progress acks, and does not execute a
//     redelivered rpc twice (deduplicated by session and rpc id, G5);
//     terminates undecodable or foreign-scope envelopes (G4, G16); ignores
//     frames of a session it saw disconnect (G7); counts and logs failed
//     outbound publishes (G10); reports a dead consume loop as unhealthy
//     (G20).
//   - Stream setup creates missing streams and reports configuration
//     drift (G19).
//   - Go gateways list their open sessions every 30 s (SessionsAliveNotice,
//     a Go extension on core NATS), and runtimes close sessions that were
//     listed and then stopped being listed: a lost disconnect notice or a
//     crashed gateway no longer leaks a session (G6). Sessions of
//     TypeScript gateways, which send no lists, are never closed this way.
//
// What stays as in TypeScript (documented limitations): delivery is
// at-least-once across a runtime crash; INBOUND and OUTBOUND live in
// memory, so a NATS restart loses what was not consumed; a runtime restart
// loses actor state and subscriptions (G8: clients stay connected and must
// resubscribe; the Go client does so when it reconnects).
package nats

import "errors"

// Scope is a deployment's (workspace, project), as it appears in subjects
// and envelopes.
type Scope struct {
	WorkspaceID string `json:"workspaceId"`
	ProjectID   string `json:"projectId"`
}

// Validate reports whether both values can be subject tokens.
func (s Scope) Validate() error {
	return errors.Join(ValidToken("workspaceId", s.WorkspaceID), ValidToken("projectId", s.ProjectID))
}

// Stream names (NATS.md §3).
const (
	InboundStream  = "INBOUND"
	OutboundStream = "OUTBOUND"
)
