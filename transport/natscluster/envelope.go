package natscluster

import (
	"encoding/json"

	"github.com/zocket-go/zocket/protocol"
)

// InboundEnvelope is a client frame on its way to a runtime.
type InboundEnvelope struct {
	Namespace Namespace `json:"scope"`
	SessionID string    `json:"sessionId"`
	// UserID is left out when the authorization had none.
	UserID *string        `json:"userId,omitempty"`
	Claims map[string]any `json:"claims"`
	// Message is the client frame as it arrived: every member, unchanged.
	Message json.RawMessage `json:"message"`
}

// OutboundEnvelope is one server message for one session.
type OutboundEnvelope struct {
	Namespace Namespace       `json:"scope"`
	SessionID string          `json:"sessionId"`
	Message   json.RawMessage `json:"message"`
}

// GatewayOutboundEnvelope is one server message for several sessions of
// one Go gateway, published once on GatewayOutboundSubject (Go extension):
// the gateway writes Message to each listed session it holds.
type GatewayOutboundEnvelope struct {
	Namespace  Namespace       `json:"scope"`
	SessionIDs []string        `json:"sessionIds"`
	Message    json.RawMessage `json:"message"`
}

// SessionConnectedNotice is published on core NATS when a socket opens.
type SessionConnectedNotice struct {
	Namespace   Namespace `json:"scope"`
	SessionID   string    `json:"sessionId"`
	UserID      *string   `json:"userId,omitempty"`
	ConnectedAt int64     `json:"connectedAt"`
}

// SessionDisconnectedNotice is published on core NATS when a socket closes.
type SessionDisconnectedNotice struct {
	Namespace      Namespace `json:"scope"`
	SessionID      string    `json:"sessionId"`
	DisconnectedAt int64     `json:"disconnectedAt"`
}

// appendOutbound appends the OutboundEnvelope of message (a JSON object)
// without re-encoding it.
func appendOutbound(dst []byte, s Namespace, sessionID string, message []byte) []byte {
	dst = appendScope(dst, s)
	dst = append(dst, `,"sessionId":`...)
	dst = protocol.AppendString(dst, sessionID)
	dst = append(dst, `,"message":`...)
	dst = append(dst, message...)
	return append(dst, '}')
}

// appendGatewayOutbound appends the GatewayOutboundEnvelope of message (a
// JSON object) for sessionIDs without re-encoding the message.
func appendGatewayOutbound(dst []byte, s Namespace, sessionIDs []string, message []byte) []byte {
	dst = appendScope(dst, s)
	dst = append(dst, `,"sessionIds":[`...)
	for i, id := range sessionIDs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = protocol.AppendString(dst, id)
	}
	dst = append(dst, `],"message":`...)
	dst = append(dst, message...)
	return append(dst, '}')
}

// appendScope opens an envelope with its scope member.
func appendScope(dst []byte, s Namespace) []byte {
	dst = append(dst, `{"scope":{"workspaceId":`...)
	dst = protocol.AppendString(dst, s.WorkspaceID)
	dst = append(dst, `,"projectId":`...)
	dst = protocol.AppendString(dst, s.ProjectID)
	return append(dst, '}')
}

// inboundHead encodes an InboundEnvelope up to its message member:
// appending a client frame (a JSON object) and "}" completes it. The
// gateway encodes it once per session: claims are not re-encoded per frame.
func inboundHead(s Namespace, sessionID string, userID *string, claims map[string]any) []byte {
	if claims == nil {
		claims = map[string]any{}
	}
	b, err := json.Marshal(InboundEnvelope{Namespace: s, SessionID: sessionID, UserID: userID, Claims: claims})
	if err != nil { // claims that do not encode: send none
		b, _ = json.Marshal(InboundEnvelope{Namespace: s, SessionID: sessionID, UserID: userID, Claims: map[string]any{}})
	}
	return b[:len(b)-len(`null}`)] // b ends in "message":null}
}
