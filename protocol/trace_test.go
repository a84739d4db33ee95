package protocol_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/protocol"
)

const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func TestParseRPC_ReadsTheOptionalTraceContext(t *testing.T) {
	m, err := protocol.Parse([]byte(`{"type":"rpc","id":1,"actor":"a","actorId":"b","method":"m",` +
		`"traceparent":"` + traceparent + `","tracestate":"vendor=1"}`))
	require.NoError(t, err)
	assert.Equal(t, traceparent, m.TraceParent)
	assert.Equal(t, "vendor=1", m.TraceState)
}

func TestParseRPC_WithoutTraceContextLeavesItEmpty(t *testing.T) {
	m, err := protocol.Parse([]byte(`{"type":"rpc","id":1,"actor":"a","actorId":"b","method":"m"}`))
	require.NoError(t, err)
	assert.Empty(t, m.TraceParent)
	assert.Empty(t, m.TraceState)
}

func TestParseRPC_IgnoresATraceContextThatIsNotAString(t *testing.T) {
	m, err := protocol.Parse([]byte(`{"type":"rpc","id":1,"actor":"a","actorId":"b","method":"m","traceparent":7,"tracestate":null}`))
	require.NoError(t, err, "an optional member never makes an rpc malformed")
	assert.Empty(t, m.TraceParent)
	assert.Empty(t, m.TraceState)
}

func TestParse_ReadsTraceContextOnlyOnRPC(t *testing.T) {
	m, err := protocol.Parse([]byte(`{"type":"state:sub","actor":"a","actorId":"b","traceparent":"` + traceparent + `"}`))
	require.NoError(t, err)
	assert.Empty(t, m.TraceParent)
}
