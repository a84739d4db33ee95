package zocket

// ConnData returns, in OnConnect and OnDisconnect, the middleware data
// (Context.Data in methods) of the connection the hook is about. The first
// ConnData for a connection runs the actor's middleware chain for it
// (Request.Method ""), inside the mailbox; the result is kept for the
// connection's later hooks on the instance. Middleware runs for hooks only
// this way: hooks that do not ask for the data cost nothing, as in the
// TypeScript server.
//
// ok is false, and data the zero value of C, when the connection did not
// pass middleware (the chain returned an error or panicked: its calls are
// refused the same way), when the actor has no middleware, in OnActivate
// and OnDeactivate, and when C is not the actor's context type.
//
//	OnConnect(func(l *zocket.Lifecycle[Room]) error {
//		if user, ok := zocket.ConnData[User](l); ok {
//			l.State.Online = append(l.State.Online, user.Name)
//		}
//		return nil
//	})
func ConnData[C, S any](l *Lifecycle[S]) (data C, ok bool) {
	sc := l.sc
	if sc.hookConn == nil {
		return data, false
	}
	v, passed := sc.inst.connContext(sc.hookConn)
	data, ok = v.(C)
	return data, ok && passed
}

// connCtx is a connection's middleware result, kept for its hooks.
type connCtx struct {
	mctx any
	ok   bool
}

// connContext returns c's middleware context, running the chain the first
// time. It is kept while c is known to the instance (OnClose drops it).
func (in *instance) connContext(c Connection) (any, bool) {
	id := c.ID()
	in.mu.Lock()
	e, found := in.connCtx[id]
	in.mu.Unlock()
	if found {
		return e.mctx, e.ok
	}
	e.mctx, e.ok = in.kind.admit(in, c)
	in.mu.Lock()
	defer in.mu.Unlock()
	if known, ok := in.known[id]; ok && known == c {
		if in.connCtx == nil {
			in.connCtx = map[string]connCtx{}
		}
		in.connCtx[id] = e
	}
	return e.mctx, e.ok
}

// admit runs the middleware chain for a connection's hooks.
func (a *compiled[S, C]) admit(in *instance, c Connection) (any, bool) {
	if a.def.chain == nil {
		return nil, false
	}
	ci := callInfo{clientID: c.ID(), identity: c.Identity(), actor: in.key.actor, actorID: in.key.id}
	var mctx C
	if err := in.protect(func() (err error) {
		mctx, err = a.def.chain.run(in.app.ctx, &ci)
		return err
	}); err != nil {
		in.app.log.Info("zocket: connection did not pass middleware; its hooks get no context",
			"clientId", c.ID(), "actor", in.key.actor, "actorId", in.key.id, "err", err)
		return nil, false
	}
	return mctx, true
}
