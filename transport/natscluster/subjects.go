package natscluster

import (
	"fmt"
	"strings"
	"unicode"
)

// ErrInvalidToken is wrapped by the errors of ValidToken and ValidActorID.
var ErrInvalidToken = fmt.Errorf("invalid subject token")

// ValidToken reports whether s can be one NATS subject token: not empty,
// without '.', '*', '>' or white space. what names the
// value in the error.
func ValidToken(what, s string) error {
	if s == "" {
		return fmt.Errorf("%s is empty: %w", what, ErrInvalidToken)
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return r == '.' || r == '*' || r == '>' || unicode.IsSpace(r) }); i >= 0 {
		return fmt.Errorf("%s %q contains %q: %w", what, s, s[i:i+1], ErrInvalidToken)
	}
	return nil
}

// ValidActorID reports whether an actor id can end an inbound subject. As
// in TypeScript, dots are allowed (the id then spans several tokens, and
// runtime filters end in '>'), but no token may be empty.
func ValidActorID(id string) error {
	for part := range strings.SplitSeq(id, ".") {
		if err := ValidToken("actorId", part); err != nil {
			return fmt.Errorf("actorId %q: %w", id, err)
		}
	}
	return nil
}

// InboundSubject is inbound.{ws}.{prj}.{actorType}.{actorId}.
func InboundSubject(s Namespace, actor, actorID string) string {
	return "inbound." + s.WorkspaceID + "." + s.ProjectID + "." + actor + "." + actorID
}

// InboundFilter is the runtime consumer's filter for one actor type.
func InboundFilter(s Namespace, actor string) string {
	return "inbound." + s.WorkspaceID + "." + s.ProjectID + "." + actor + ".>"
}

// OutboundSubject is outbound.{ws}.{prj}.{sessionId}.
func OutboundSubject(s Namespace, sessionID string) string {
	return "outbound." + s.WorkspaceID + "." + s.ProjectID + "." + sessionID
}

// GatewayOutboundSubject is outbound.{ws}.{prj}.gw-{gatewayId}: the one
// subject on which a Go gateway reads the messages of all its sessions of
// the namespace (see GatewayOutboundEnvelope). The "gw-" prefix keeps it
// apart from session ids, which are UUIDs.
func GatewayOutboundSubject(s Namespace, gatewayID string) string {
	return "outbound." + s.WorkspaceID + "." + s.ProjectID + ".gw-" + gatewayID
}

// gatewayOutboundFilter is a gateway consumer's filter: its subject in
// every namespace, as one gateway serves sessions of many.
func gatewayOutboundFilter(gatewayID string) string {
	return "outbound.*.*.gw-" + gatewayID
}

// ConnectedSubject is session.connected.{ws}.{prj}.
func ConnectedSubject(s Namespace) string {
	return "session.connected." + s.WorkspaceID + "." + s.ProjectID
}

// DisconnectedSubject is session.disconnected.{ws}.{prj}.
func DisconnectedSubject(s Namespace) string {
	return "session.disconnected." + s.WorkspaceID + "." + s.ProjectID
}

// ConsumerName is the runtime's durable consumer for an actor type:
// rt-{ws}-{prj}-{actorType}.
func ConsumerName(s Namespace, actor string) string {
	return "rt-" + s.WorkspaceID + "-" + s.ProjectID + "-" + actor
}
