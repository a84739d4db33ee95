// Package natscluster runs zocket in the distributed mode (docs/distributed.md): stateless
// gateways terminate WebSockets and authorize sessions, runtimes host the
// actors, and NATS JetStream connects them. Subjects, streams, consumers
// and envelopes are those of the TypeScript gateway and runtime, so a Go
// runtime works behind a TypeScript gateway and the reverse (a Go gateway
// in front of TypeScript runtimes sets GatewayOptions.PerSessionOutbound).
//
//	client ─WS─► Gateway ─JetStream─► INBOUND ─pull consumer per actor type (or per partition)─► Runtime ─► App
//	client ◄─WS─ Gateway ◄─ordered consumer per gateway─ OUTBOUND ◄─JetStream─┘
//
// Where the TypeScript version has gaps, this package fixes
// the ones users notice:
//
//   - The gateway sends welcome as soon as the socket opens, with the
//     session id the runtime uses as client id.
//   - Subject tokens are validated; an rpc with an unroutable actor
//     or id, or one the gateway could not publish, gets an
//     rpc:result error instead of a silent timeout.
//   - The authorize response is validated, and the call is bounded by a
//     timeout.
//   - The runtime runs the instances of one actor type in parallel, each
//     instance in order; acks an rpc once its result is published,
//     keeps long calls alive with in-progress acks, and does not execute a
//     redelivered rpc twice (deduplicated by session and rpc id);
//     terminates undecodable or foreign-namespace envelopes; ignores
//     frames of a session it saw disconnect; counts and logs failed
//     outbound publishes; reports a dead consume loop as unhealthy.
//   - Stream setup creates missing streams and reports configuration
//     drift.
//   - Go gateways list their open sessions every 30 s (SessionsAliveNotice,
//     a Go extension on core NATS), and runtimes close sessions that were
//     listed and then stopped being listed: a lost disconnect notice or a
//     crashed gateway no longer leaks a session. Sessions of
//     TypeScript gateways, which send no lists, are never closed this way.
//
// A Go gateway marks its INBOUND messages with HeaderGateway, and a Go
// runtime then publishes each frame once for all the sessions of that
// gateway it is for, on the gateway's one subject (GatewayOutboundSubject,
// GatewayOutboundEnvelope); sessions of TypeScript gateways get one
// envelope per message on their own subject. A Go gateway in front of
// TypeScript runtimes sets GatewayOptions.PerSessionOutbound.
//
// An Observer (GatewayOptions.Observer, RuntimeOptions.Observer; package
// otelzocket implements it) hears JetStream publishes and their
// acknowledgement times, forwarded rpcs and slow consumers; the gateway
// sends each forwarded rpc's W3C trace context in NATS headers
// (HeaderTraceParent, HeaderTraceState), which the runtime hands to the
// App, so one trace runs from the client to the actor.
//
// With RuntimeOptions.Partitions any number of runtimes share a scope:
// INBOUND is split into partitions by the server's partition() subject
// transform, each pulled through a pinned_client consumer that delivers to
// one runtime at a time; runtimes list themselves in RuntimesBucket and
// share the partitions out by rendezvous hashing, hand them over when they
// join or stop, and take those of a runtime that died after PinnedTTL. The
// App then activates only instances of the partitions its runtime holds
// (zocket.App.SetPlacement). A Go gateway sends the subscriptions of a
// moved instance again to its new holder.
//
// What stays as in TypeScript (documented limitations): delivery is
// at-least-once across a runtime crash, except for the calls that change a
// durable actor's state, whose answers are stored with the change and
// given again instead of running twice; by default INBOUND and OUTBOUND
// live in memory (StreamOptions.FileStorage keeps them on disk), so a NATS
// restart loses what was not consumed; without a Storage a runtime restart
// loses actor state; a restarted runtime has lost its subscriptions,
// unless the runtimes are partitioned and the session's gateway is a Go
// one (clients that reconnect resubscribe; the Go client does so).
package natscluster

import "errors"

// ErrInvalidOption is wrapped by the errors of NewRuntime and NewGateway
// for an option out of its range.
var ErrInvalidOption = errors.New("natscluster: invalid option")

// Namespace is a deployment's (workspace, project), as it appears in subjects
// and in envelopes (their "scope" member). A session's Namespace becomes its
// connections' zocket.Identity.Namespace.
type Namespace struct {
	WorkspaceID string `json:"workspaceId"`
	ProjectID   string `json:"projectId"`
}

// Validate reports whether both values can be subject tokens.
func (s Namespace) Validate() error {
	return errors.Join(ValidToken("workspaceId", s.WorkspaceID), ValidToken("projectId", s.ProjectID))
}

// Stream names.
const (
	InboundStream  = "INBOUND"
	OutboundStream = "OUTBOUND"
)
