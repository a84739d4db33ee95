package otelzocket_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/otelzocket"
)

// rpcSpan sends frame from a connection and returns the call's span.
func rpcSpan(t *testing.T, frame string) sdktrace.ReadOnlySpan {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	app := newApp(t, otelzocket.WithTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))))
	h := zocket.NewHandler(app)
	c := zocket.NewLocalConn("c1", zocket.Identity{})
	h.OnConnection(c)
	h.OnMessage(c, []byte(frame))
	for range 2 { // welcome, then the answer: CallEnd ran before it was sent
		_, err := c.Next(context.Background())
		require.NoError(t, err)
	}
	spans := rec.Ended()
	require.Len(t, spans, 1)
	return spans[0]
}

func TestCallSpans_FromAFrameWithTraceparentAreChildrenOfTheRemoteSpan(t *testing.T) {
	s := rpcSpan(t, `{"type":"rpc","id":1,"actor":"counter","actorId":"a","method":"add","input":1,`+
		`"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01","tracestate":"vendor=1"}`)
	assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", s.SpanContext().TraceID().String())
	assert.Equal(t, "00f067aa0ba902b7", s.Parent().SpanID().String())
	assert.True(t, s.Parent().IsRemote())
	assert.Equal(t, "vendor=1", s.SpanContext().TraceState().String())
}

func TestCallSpans_FromAFrameWithAnInvalidTraceparentStartATrace(t *testing.T) {
	s := rpcSpan(t, `{"type":"rpc","id":1,"actor":"counter","actorId":"a","method":"add","input":1,"traceparent":"garbage"}`)
	assert.False(t, s.Parent().IsValid())
}

func TestTraceContext_WritesTheSpanInW3CFormat(t *testing.T) {
	obs, err := otelzocket.New()
	require.NoError(t, err)
	tp := sdktrace.NewTracerProvider()
	ctx, span := tp.Tracer("test").Start(context.Background(), "x")
	defer span.End()
	parent, _ := obs.TraceContext(ctx)
	sc := span.SpanContext()
	assert.Equal(t, "00-"+sc.TraceID().String()+"-"+sc.SpanID().String()+"-01", parent)
	parent, state := obs.TraceContext(context.Background())
	assert.Empty(t, parent+state, "no span, no trace context")
}
