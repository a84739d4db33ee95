package otelzocket

import (
	"context"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Trace context travels in the W3C format (propagation.TraceContext): the
// rpc frame's "traceparent" and "tracestate" members, and the distributed
// mode's NATS headers of the same names.

// extract returns ctx carrying the remote span that traceparent and
// tracestate name; ctx unchanged when traceparent is not valid.
func extract(ctx context.Context, traceparent, tracestate string) context.Context {
	carrier := propagation.MapCarrier{"traceparent": traceparent}
	if tracestate != "" {
		carrier["tracestate"] = tracestate
	}
	return propagation.TraceContext{}.Extract(ctx, carrier)
}

// TraceContext returns the W3C trace context of the span in ctx: its
// traceparent and tracestate values, "" when ctx carries no valid span.
func (o *Observer) TraceContext(ctx context.Context) (traceparent, tracestate string) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return "", ""
	}
	carrier := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, carrier)
	return carrier["traceparent"], carrier["tracestate"]
}
