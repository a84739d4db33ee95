package zocket

import "context"

// Observers returns an Observer that tells each of obs, in order, what an
// App does: to use several (otelzocket's and an inspector's, say) with
// WithObserver. Nil interface values are skipped; with none left it returns nil
// (no observer), and with one it returns that one as is, at no extra cost.
//
// CallStart is chained: each observer's CallStart gets the context the
// previous one returned, and the last one's becomes the call's context,
// which every observer's CallEnd then receives. So the context carries
// what each observer put in it.
func Observers(obs ...Observer) Observer {
	var list fanOut
	for _, o := range obs {
		if o != nil {
			list = append(list, o)
		}
	}
	switch len(list) {
	case 0:
		return nil
	case 1:
		return list[0]
	}
	return list
}

// fanOut is the Observer of Observers: two or more observers.
type fanOut []Observer

func (f fanOut) CallStart(ctx context.Context, call CallInfo) context.Context {
	for _, o := range f {
		ctx = o.CallStart(ctx, call)
	}
	return ctx
}

func (f fanOut) CallEnd(ctx context.Context, call CallInfo, end CallEnd) {
	for _, o := range f {
		o.CallEnd(ctx, call, end)
	}
}

func (f fanOut) Activated(actor, id string) {
	for _, o := range f {
		o.Activated(actor, id)
	}
}

func (f fanOut) Deactivated(actor, id string) {
	for _, o := range f {
		o.Deactivated(actor, id)
	}
}

func (f fanOut) Subscribed(actor, id string, kind SubscriptionKind) {
	for _, o := range f {
		o.Subscribed(actor, id, kind)
	}
}

func (f fanOut) Unsubscribed(actor, id string, kind SubscriptionKind) {
	for _, o := range f {
		o.Unsubscribed(actor, id, kind)
	}
}

func (f fanOut) Published(actor, id string, frames, bytes int) {
	for _, o := range f {
		o.Published(actor, id, frames, bytes)
	}
}

// Stored hands a storage write to the observers that hear of them
// (StorageObserver).
func (f fanOut) Stored(info StoreInfo) {
	for _, o := range f {
		if so, ok := o.(StorageObserver); ok {
			so.Stored(info)
		}
	}
}
