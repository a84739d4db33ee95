// Package otelzocket traces and measures a zocket App with OpenTelemetry.
//
// New returns an Observer to give the App with zocket.WithObserver:
//
//	obs, err := otelzocket.New() // the global providers, or WithTracerProvider, WithMeterProvider
//	if err != nil { ... }
//	app := zocket.NewApp(zocket.WithObserver(obs))
//
// Every method call becomes a span named "actor.method". A call made with
// App.Invoke, or from another actor's handler with its Context(), is a child
// of the span in the caller's context, so a request that goes through
// several actors reads as one trace. A call from a connection continues the
// client's trace when its rpc frame carries W3C trace context (the
// "traceparent" and "tracestate" members, zocket.CallInfo.TraceParent), and
// otherwise starts a trace of its own. The handler's Context() carries the
// call's span, for spans of its own and for the calls it makes.
//
// The Observer is also a natscluster.Observer, for the distributed mode:
//
//	natscluster.GatewayOptions{Observer: obs, ...}
//	natscluster.RuntimeOptions{Observer: obs, ...}
//
// The gateway then makes a producer span "gateway actor.method" for each
// rpc it forwards (a child of the client's span) and sends its trace context
// in the NATS message's headers; the runtime's call span is its child, so
// one trace runs from the client through the gateway and NATS to the actor.
//
// The metrics, all under the instrumentation scope of this package:
//
//	zocket.calls                      counter     calls by actor, method and outcome (ok, error, panic)
//	zocket.call.duration              histogram   seconds a call ran, by actor, method and outcome
//	zocket.call.queue.duration        histogram   seconds a call waited in its instance's mailbox, by actor and method
//	zocket.instances                  up/down     live instances, by actor
//	zocket.subscriptions              up/down     subscriptions, by actor and kind (state, events)
//	zocket.publish.frames             counter     state frames (patches) sent to subscribers, by actor
//	zocket.publish.size               counter     bytes of those frames, by actor
//	zocket.slow_consumer.closes       counter     connections closed as slow consumers (transports' OnSlowConsumer, natscluster gateways)
//	zocket.nats.publish.duration      histogram   seconds from a JetStream publish to its ack, by role (gateway, runtime) and outcome
//	zocket.storage.write.duration     histogram   seconds each Storage.Write took (the commits of many instances together)
//	zocket.storage.write.size         counter     bytes of snapshots and records written to the Storage
//	zocket.storage.writes             counter     instance writes to the Storage, by outcome (ok, error)
//	zocket.mailbox.depth              gauge       items waiting in the mailboxes of an actor type's live instances, summed, by actor
//	zocket.mailbox.depth.max          gauge       the deepest of those mailboxes, by actor
//	zocket.connections                gauge       open connections of the transports given to WatchQueues
//	zocket.outbound.queue.frames      gauge       frames queued for their clients and not yet written, summed
//	zocket.outbound.queue.bytes       gauge       bytes of those frames, summed
//	zocket.outbound.queue.max_frames  gauge       frames queued for the connection with the most
//	zocket.outbound.queue.max_bytes   gauge       bytes queued for the connection with the most
//
// The mailbox gauges are read from App.Instances at each collection, for the
// Apps given to WatchMailboxes; a sum and a maximum per actor type tell a
// backlog spread over many instances from one hot instance, without an
// attribute per instance. The outbound queue gauges are read likewise from
// the sources given to WatchQueues, the Queues method (wscore.QueueStats)
// of a wshttp or wsepoll Server or of a natscluster Gateway, with the
// attributes given there (KeyTransport, say): one series per source, never
// one per connection.
//
// Instance ids and client ids are span attributes only, never metric
// attributes: their number is unbounded.
package otelzocket

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/zocket-go/zocket"
)

// ScopeName is the instrumentation scope of the tracer and the meter.
const ScopeName = "github.com/zocket-go/zocket/otelzocket"

// Attribute keys of the spans and metrics.
const (
	KeyActor    = attribute.Key("zocket.actor")
	KeyActorID  = attribute.Key("zocket.actor_id")
	KeyMethod   = attribute.Key("zocket.method")
	KeyClientID = attribute.Key("zocket.client_id")
	KeyOutcome  = attribute.Key("zocket.outcome")
	KeyKind     = attribute.Key("zocket.subscription")
	// KeyTransport names a transport whose queues WatchQueues reports
	// ("wshttp", "wsepoll", "gateway"...).
	KeyTransport = attribute.Key("zocket.transport")
	// KeyQueued is the seconds a call waited in its mailbox (spans only).
	KeyQueued = attribute.Key("zocket.queue.duration")
)

// Option configures New.
type Option func(*config)

type config struct {
	tp trace.TracerProvider
	mp metric.MeterProvider
}

// WithTracerProvider sets where spans go (default: otel.GetTracerProvider()).
func WithTracerProvider(tp trace.TracerProvider) Option { return func(c *config) { c.tp = tp } }

// WithMeterProvider sets where metrics go (default: otel.GetMeterProvider()).
func WithMeterProvider(mp metric.MeterProvider) Option { return func(c *config) { c.mp = mp } }

// Observer is a zocket.Observer that records spans and metrics. It is safe
// for concurrent use; one may serve several Apps.
type Observer struct {
	tracer trace.Tracer

	calls     metric.Int64Counter
	duration  metric.Float64Histogram
	queued    metric.Float64Histogram
	instances metric.Int64UpDownCounter
	subs      metric.Int64UpDownCounter
	frames    metric.Int64Counter
	bytes     metric.Int64Counter
	slow      metric.Int64Counter

	natsPublish metric.Float64Histogram

	storeDuration metric.Float64Histogram
	storeSize     metric.Int64Counter
	storeWrites   metric.Int64Counter

	gauges       gauges
	queueGauges  queueGauges
	mu           sync.Mutex
	apps         []*zocket.App  // watched for the gauges (WatchMailboxes)
	queueSources []*queueSource // watched for the queue gauges (WatchQueues)
}

var _ zocket.Observer = (*Observer)(nil)

// New returns an Observer recording to the global tracer and meter
// providers, or to those the options name. It fails only when an
// instrument cannot be created.
func New(opts ...Option) (*Observer, error) {
	c := config{tp: otel.GetTracerProvider(), mp: otel.GetMeterProvider()}
	for _, o := range opts {
		o(&c)
	}
	m := c.mp.Meter(ScopeName)
	o := &Observer{tracer: c.tp.Tracer(ScopeName)}
	var errs [12]error
	o.calls, errs[0] = m.Int64Counter("zocket.calls",
		metric.WithDescription("Method calls, by actor, method and outcome."), metric.WithUnit("{call}"))
	o.duration, errs[1] = m.Float64Histogram("zocket.call.duration",
		metric.WithDescription("How long method calls ran."), metric.WithUnit("s"))
	o.queued, errs[2] = m.Float64Histogram("zocket.call.queue.duration",
		metric.WithDescription("How long method calls waited in their instance's mailbox."), metric.WithUnit("s"))
	o.instances, errs[3] = m.Int64UpDownCounter("zocket.instances",
		metric.WithDescription("Live actor instances."), metric.WithUnit("{instance}"))
	o.subs, errs[4] = m.Int64UpDownCounter("zocket.subscriptions",
		metric.WithDescription("Subscriptions to instances' state or events."), metric.WithUnit("{subscription}"))
	o.frames, errs[5] = m.Int64Counter("zocket.publish.frames",
		metric.WithDescription("State frames sent to subscribers after commits."), metric.WithUnit("{frame}"))
	o.bytes, errs[6] = m.Int64Counter("zocket.publish.size",
		metric.WithDescription("Bytes of the state frames sent to subscribers after commits."), metric.WithUnit("By"))
	o.slow, errs[7] = m.Int64Counter("zocket.slow_consumer.closes",
		metric.WithDescription("Connections closed because they fell too far behind."), metric.WithUnit("{connection}"))
	o.natsPublish, errs[8] = m.Float64Histogram("zocket.nats.publish.duration",
		metric.WithDescription("How long JetStream took to acknowledge a publish, by role (gateway, runtime)."), metric.WithUnit("s"))
	o.storeDuration, errs[9] = m.Float64Histogram("zocket.storage.write.duration",
		metric.WithDescription("How long each Storage.Write (the commits of many instances together) took."), metric.WithUnit("s"))
	o.storeSize, errs[10] = m.Int64Counter("zocket.storage.write.size",
		metric.WithDescription("Bytes of snapshots and records written to the Storage."), metric.WithUnit("By"))
	o.storeWrites, errs[11] = m.Int64Counter("zocket.storage.writes",
		metric.WithDescription("Instance writes to the Storage, by outcome (ok, error)."), metric.WithUnit("{write}"))
	if err := errors.Join(append(errs[:], o.newGauges(m), o.newQueueGauges(m))...); err != nil {
		return nil, fmt.Errorf("otelzocket: %w", err)
	}
	return o, nil
}

// CallStart starts the call's span, a child of the span in ctx if any, or
// of the remote span the rpc's W3C trace context names (CallInfo.TraceParent).
// A call from a connection is a server span, any other an internal one.
func (o *Observer) CallStart(ctx context.Context, c zocket.CallInfo) context.Context {
	kind := trace.SpanKindInternal
	if c.ClientID != "" {
		kind = trace.SpanKindServer
	}
	if c.TraceParent != "" {
		ctx = extract(ctx, c.TraceParent, c.TraceState)
	}
	ctx, _ = o.tracer.Start(ctx, c.Actor+"."+c.Method, trace.WithSpanKind(kind), trace.WithAttributes(
		KeyActor.String(c.Actor), KeyActorID.String(c.ActorID), KeyMethod.String(c.Method),
		KeyClientID.String(c.ClientID), KeyQueued.Float64(c.Queued.Seconds())))
	return ctx
}

// CallEnd ends the call's span, with an error status when it failed, and
// records its count, duration and queue wait.
func (o *Observer) CallEnd(ctx context.Context, c zocket.CallInfo, end zocket.CallEnd) {
	span := trace.SpanFromContext(ctx)
	span.SetAttributes(KeyOutcome.String(end.Outcome.String()))
	if end.Err != nil {
		span.RecordError(end.Err)
		span.SetStatus(codes.Error, end.Err.Error())
	}
	span.End()
	actor, method := KeyActor.String(c.Actor), KeyMethod.String(c.Method)
	withOutcome := metric.WithAttributes(actor, method, KeyOutcome.String(end.Outcome.String()))
	o.calls.Add(ctx, 1, withOutcome)
	o.duration.Record(ctx, end.Duration.Seconds(), withOutcome)
	o.queued.Record(ctx, c.Queued.Seconds(), metric.WithAttributes(actor, method))
}

// Activated counts a live instance of actor.
func (o *Observer) Activated(actor, _ string) {
	o.instances.Add(context.Background(), 1, metric.WithAttributes(KeyActor.String(actor)))
}

// Deactivated counts an instance of actor gone.
func (o *Observer) Deactivated(actor, _ string) {
	o.instances.Add(context.Background(), -1, metric.WithAttributes(KeyActor.String(actor)))
}

// Subscribed counts a subscription.
func (o *Observer) Subscribed(actor, _ string, kind zocket.SubscriptionKind) {
	o.subs.Add(context.Background(), 1, metric.WithAttributes(KeyActor.String(actor), KeyKind.String(kind.String())))
}

// Unsubscribed counts a subscription ended.
func (o *Observer) Unsubscribed(actor, _ string, kind zocket.SubscriptionKind) {
	o.subs.Add(context.Background(), -1, metric.WithAttributes(KeyActor.String(actor), KeyKind.String(kind.String())))
}

// Published counts the frames and bytes a commit sent to subscribers.
func (o *Observer) Published(actor, _ string, frames, bytes int) {
	attrs := metric.WithAttributes(KeyActor.String(actor))
	o.frames.Add(context.Background(), int64(frames), attrs)
	o.bytes.Add(context.Background(), int64(bytes), attrs)
}

// SlowConsumerClosed counts a connection closed as a slow consumer. Its
// signature fits the transports' OnSlowConsumer option:
//
//	wshttp.Options{OnSlowConsumer: obs.SlowConsumerClosed}
func (o *Observer) SlowConsumerClosed(string) {
	o.slow.Add(context.Background(), 1)
}

// Stored implements zocket.StorageObserver: storage write latency, bytes
// and instance writes by outcome.
func (o *Observer) Stored(info zocket.StoreInfo) {
	ctx := context.Background()
	o.storeDuration.Record(ctx, info.Duration.Seconds())
	o.storeSize.Add(ctx, int64(info.Bytes))
	if ok := info.Writes - info.Failed; ok > 0 {
		o.storeWrites.Add(ctx, int64(ok), metric.WithAttributes(KeyOutcome.String("ok")))
	}
	if info.Failed > 0 {
		o.storeWrites.Add(ctx, int64(info.Failed), metric.WithAttributes(KeyOutcome.String("error")))
	}
}
