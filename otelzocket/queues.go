package otelzocket

import (
	"context"
	"slices"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/zocket-go/zocket/transport/wscore"
)

// queueGauges are the instruments read from the watched transports'
// outbound queues at each collection.
type queueGauges struct {
	conns, frames, bytes, maxFrames, maxBytes metric.Int64ObservableGauge
}

// queueSource is one watched transport: where its figures come from and
// the attributes they are reported with.
type queueSource struct {
	queues func() wscore.QueueStats
	attrs  attribute.Set
}

// newQueueGauges creates the outbound queue gauges and registers the
// callback that feeds them.
func (o *Observer) newQueueGauges(m metric.Meter) error {
	g := &o.queueGauges
	for _, in := range []struct {
		gauge             *metric.Int64ObservableGauge
		name, desc, units string
	}{
		{&g.conns, "zocket.connections", "Open connections of the watched transports.", "{connection}"},
		{&g.frames, "zocket.outbound.queue.frames", "Frames queued for clients and not yet written, summed over connections.", "{frame}"},
		{&g.bytes, "zocket.outbound.queue.bytes", "Bytes of the frames queued for clients and not yet written, summed over connections.", "By"},
		{&g.maxFrames, "zocket.outbound.queue.max_frames", "Frames queued for the connection with the most.", "{frame}"},
		{&g.maxBytes, "zocket.outbound.queue.max_bytes", "Bytes queued for the connection with the most.", "By"},
	} {
		var err error
		if *in.gauge, err = m.Int64ObservableGauge(in.name, metric.WithDescription(in.desc), metric.WithUnit(in.units)); err != nil {
			return err
		}
	}
	_, err := m.RegisterCallback(o.observeQueues, g.conns, g.frames, g.bytes, g.maxFrames, g.maxBytes)
	return err
}

// WatchQueues makes the connection and outbound queue gauges
// (zocket.connections, zocket.outbound.queue.frames and .bytes, summed
// over connections, and zocket.outbound.queue.max_frames and .max_bytes,
// the largest single queue) report what queues returns, called at each
// metric collection with attrs as the points' attributes, until the
// returned function is called. queues is typically the Queues method of a
// wshttp or wsepoll Server or of a natscluster Gateway:
//
//	stop := obs.WatchQueues(srv.Queues, KeyTransport.String("wshttp"))
//
// Several sources may be watched: those with the same attributes add up
// (the maxima are the largest of them), the others are reported apart.
// Never give a connection's or client's id as an attribute: their number is
// unbounded.
func (o *Observer) WatchQueues(queues func() wscore.QueueStats, attrs ...attribute.KeyValue) (stop func()) {
	return watch(&o.mu, &o.queueSources, &queueSource{queues: queues, attrs: attribute.NewSet(attrs...)})
}

// observeQueues reports the watched transports' queues by attribute set.
func (o *Observer) observeQueues(_ context.Context, obs metric.Observer) error {
	o.mu.Lock()
	sources := slices.Clone(o.queueSources)
	o.mu.Unlock()
	type point struct {
		attrs attribute.Set
		q     wscore.QueueStats
	}
	points := map[attribute.Distinct]*point{}
	for _, src := range sources {
		key := src.attrs.Equivalent()
		if points[key] == nil {
			points[key] = &point{attrs: src.attrs}
		}
		points[key].q.Merge(src.queues())
	}
	g := &o.queueGauges
	for _, p := range points {
		attrs := metric.WithAttributeSet(p.attrs)
		obs.ObserveInt64(g.conns, int64(p.q.Conns), attrs)
		obs.ObserveInt64(g.frames, int64(p.q.Frames), attrs)
		obs.ObserveInt64(g.bytes, int64(p.q.Bytes), attrs)
		obs.ObserveInt64(g.maxFrames, int64(p.q.MaxFrames), attrs)
		obs.ObserveInt64(g.maxBytes, int64(p.q.MaxBytes), attrs)
	}
	return nil
}
