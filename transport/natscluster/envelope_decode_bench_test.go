package natscluster

import (
	"encoding/json"
	"testing"
)

var benchInbound = []byte(`{"scope":{"workspaceId":"ws-1","projectId":"prj-1"},"sessionId":"6f1c2d3e-4b5a-4c6d-8e7f-901234567890","userId":"user-123","claims":{"role":"member","plan":"pro"},"message":{"type":"rpc","id":"r42","actor":"counter","actorId":"a-17","method":"add","input":{"amount":2}}}`)

// BenchmarkDecodeInbound compares the runtime's envelope decoder with
// encoding/json decoding the same envelope into RawMessage members, which
// the runtime used before.
func BenchmarkDecodeInbound(b *testing.B) {
	known := Namespace{WorkspaceID: "ws-1", ProjectID: "prj-1"}
	b.Run("scanner", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeInbound(benchInbound, known); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var w struct {
				Namespace Namespace       `json:"scope"`
				SessionID string          `json:"sessionId"`
				UserID    *string         `json:"userId"`
				Claims    json.RawMessage `json:"claims"`
				Message   json.RawMessage `json:"message"`
			}
			if err := json.Unmarshal(benchInbound, &w); err != nil {
				b.Fatal(err)
			}
		}
	})
}
