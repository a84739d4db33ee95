package otelzocket

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/zocket-go/zocket/transport/natscluster"
)

// KeyRole is the side of the distributed mode that published: "gateway"
// or "runtime".
const KeyRole = attribute.Key("zocket.role")

// KeySessionID is a gateway session's id (spans only).
const KeySessionID = attribute.Key("zocket.session_id")

var _ natscluster.Observer = (*Observer)(nil)

// ForwardStart starts the gateway's span for a client's rpc, "gateway
// actor.method", a producer span that is a child of the client's span when
// the frame carried a traceparent. The runtime's call span becomes its
// child: the gateway sends the span's trace context in the message's
// headers (TraceContext).
func (o *Observer) ForwardStart(ctx context.Context, rpc natscluster.RPC) context.Context {
	if rpc.TraceParent != "" {
		ctx = extract(ctx, rpc.TraceParent, rpc.TraceState)
	}
	ctx, _ = o.tracer.Start(ctx, "gateway "+rpc.Actor+"."+rpc.Method, trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(KeyActor.String(rpc.Actor), KeyActorID.String(rpc.ActorID), KeyMethod.String(rpc.Method),
			KeySessionID.String(rpc.SessionID)))
	return ctx
}

// ForwardEnd ends the gateway's span once JetStream acknowledged the
// publish, with an error status when it failed.
func (o *Observer) ForwardEnd(ctx context.Context, _ natscluster.RPC, p natscluster.Publish) {
	span := trace.SpanFromContext(ctx)
	if p.Err != nil {
		span.RecordError(p.Err)
		span.SetStatus(codes.Error, p.Err.Error())
	}
	span.End()
}

// PublishDone records how long a JetStream publish took to be acknowledged
// (or to fail), by role and outcome (ok, error).
func (o *Observer) PublishDone(p natscluster.Publish) {
	outcome := "ok"
	if p.Err != nil {
		outcome = "error"
	}
	o.natsPublish.Record(context.Background(), p.Duration.Seconds(),
		metric.WithAttributes(KeyRole.String(p.Role.String()), KeyOutcome.String(outcome)))
}
