package natscluster_test

import (
	"encoding/json"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/internal/testsupport/poll"
	"github.com/zocket-go/zocket/transport/natscluster"
)

// An envelope as a TypeScript gateway may write it (JSON.stringify of an
// object built in another order, white space, escapes) is read like ours.
func TestRuntime_ReadsAnEnvelopeInAnyMemberOrderWithEscapes(t *testing.T) {
	c := startCluster(t, member())
	nc := connect(t, c.url)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	out := outbound(t, nc, "ts-1")
	envelope := `{ "message" : {"actorId":"ts","method":"whoAmI","id":"w1","type":"rpc","actor":"room"},
		"claims" : {"role":"m\u00e9mber"}, "userId" : "u\"1", "sessionId" : "ts\u002d1",
		"extra" : [{"a":"]}\""}], "scope" : {"projectId":"prj-1","workspaceId":"ws-1"} }`
	_, err = js.Publish(t.Context(), natscluster.InboundSubject(scope, "room", "ts"), []byte(envelope))
	require.NoError(t, err)

	var welcome map[string]any
	require.NoError(t, json.Unmarshal([]byte(next(t, out)), &welcome))
	assert.Equal(t, "welcome", welcome["type"])
	var result struct {
		ID     string
		Result map[string]any
	}
	require.NoError(t, json.Unmarshal([]byte(next(t, out)), &result))
	assert.Equal(t, "w1", result.ID)
	assert.Equal(t, `u"1`, result.Result["userId"])
	assert.Equal(t, map[string]any{"role": "mémber"}, result.Result["claims"])
}

// An envelope whose message is not a JSON object, or is broken inside, is
// terminated before its session is opened: nothing is welcomed.
func TestRuntime_TerminatesAnEnvelopeWhoseMessageIsNotAValidObject(t *testing.T) {
	c := startCluster(t, member())
	nc := connect(t, c.url)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	head := `{"scope":{"workspaceId":"ws-1","projectId":"prj-1"},"sessionId":"odd","message":`
	for _, message := range []string{`"hello"`, `[1]`, `null`, `{"type":"rpc",}`} {
		_, err := js.Publish(t.Context(), natscluster.InboundSubject(scope, "room", "odd"), []byte(head+message+`}`))
		require.NoError(t, err)
	}
	poll.Until(t, func() bool {
		info := consumerInfo(t, nc)
		return info.NumAckPending == 0 && info.NumPending == 0
	}, "every envelope handled")
	assert.Zero(t, consumerInfo(t, nc).NumRedelivered)
	assert.Zero(t, c.runtime.Sessions(), "no session opened")
}
