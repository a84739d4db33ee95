package otelzocket

import (
	"context"
	"slices"
	"sync"

	"go.opentelemetry.io/otel/metric"

	"github.com/zocket-go/zocket"
)

// gauges are the instruments read from the watched Apps at each collection.
type gauges struct {
	depth    metric.Int64ObservableGauge
	depthMax metric.Int64ObservableGauge
}

// newGauges creates the gauges and registers the callback that feeds them.
func (o *Observer) newGauges(m metric.Meter) error {
	var err error
	if o.gauges.depth, err = m.Int64ObservableGauge("zocket.mailbox.depth",
		metric.WithDescription("Calls and hooks waiting in the mailboxes of an actor type's live instances, summed."),
		metric.WithUnit("{item}")); err != nil {
		return err
	}
	if o.gauges.depthMax, err = m.Int64ObservableGauge("zocket.mailbox.depth.max",
		metric.WithDescription("The deepest mailbox among an actor type's live instances."),
		metric.WithUnit("{item}")); err != nil {
		return err
	}
	_, err = m.RegisterCallback(o.observeMailboxes, o.gauges.depth, o.gauges.depthMax)
	return err
}

// WatchMailboxes makes the mailbox gauges (zocket.mailbox.depth and
// zocket.mailbox.depth.max) report app's instances, read with
// App.Instances at each metric collection, until the returned function is
// called. Every registered actor type of app is reported, 0 when none of
// its instances waits. Several Apps may be watched: their figures add up
// by actor type (the maximum is the largest of all).
func (o *Observer) WatchMailboxes(app *zocket.App) (stop func()) {
	return watch(&o.mu, &o.apps, app)
}

// watch appends v to *list under mu, and returns the function that
// removes it again.
func watch[T comparable](mu *sync.Mutex, list *[]T, v T) (stop func()) {
	mu.Lock()
	defer mu.Unlock()
	*list = append(*list, v)
	return func() {
		mu.Lock()
		defer mu.Unlock()
		if i := slices.Index(*list, v); i >= 0 {
			*list = slices.Delete(*list, i, i+1)
		}
	}
}

// observeMailboxes reports the watched Apps' mailbox depths by actor type.
func (o *Observer) observeMailboxes(_ context.Context, obs metric.Observer) error {
	o.mu.Lock()
	apps := slices.Clone(o.apps)
	o.mu.Unlock()
	type depth struct{ sum, max int64 }
	byActor := map[string]*depth{}
	for _, app := range apps {
		for _, name := range app.ActorNames() {
			if byActor[name] == nil {
				byActor[name] = &depth{}
			}
		}
		for _, in := range app.Instances() {
			d := byActor[in.Actor]
			d.sum += int64(in.Queued)
			d.max = max(d.max, int64(in.Queued))
		}
	}
	for actor, d := range byActor {
		attrs := metric.WithAttributes(KeyActor.String(actor))
		obs.ObserveInt64(o.gauges.depth, d.sum, attrs)
		obs.ObserveInt64(o.gauges.depthMax, d.max, attrs)
	}
	return nil
}
