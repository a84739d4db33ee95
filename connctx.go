package zocket

// ConnCtx returns, in OnConnect and OnDisconnect, the middleware context
// of the connection the hook is about: for an actor with middleware
// (NewActorWith) and a connect or disconnect hook, the chain runs once for
// each connection when it first interacts with an instance, inside the
// mailbox just before OnConnect, with Request.Method "". ok is false, and
// the context C's zero value, when that run failed (the connection did not
// pass middleware; its calls fail the same way), when the actor has no
// middleware, in the other hooks, and when C is not the actor's context
// type.
//
//	OnConnect(func(l *zocket.Lifecycle[Room]) error {
//		if user, ok := zocket.ConnCtx[User](l); ok {
//			l.State.Online = append(l.State.Online, user.Name)
//		}
//		return nil
//	})
func ConnCtx[C, S any](l *Lifecycle[S]) (ctx C, ok bool) {
	ctx, ok = l.sc.mctx.(C)
	return ctx, ok
}

// admit runs the middleware chain for c's first contact with in and keeps
// its result for c's connect and disconnect hooks (ConnCtx).
func (a *compiled[S, C]) admit(in *instance, c Connection) {
	if a.def.chain == nil {
		return
	}
	ci := callInfo{clientID: c.ID(), identity: c.Identity(), actor: in.key.actor, actorID: in.key.id}
	var mctx C
	if err := in.protect(func() (err error) {
		mctx, err = a.def.chain.run(in.app.ctx, &ci)
		return err
	}); err != nil {
		in.app.log.Info("zocket: connection did not pass middleware; its hooks get no context",
			"clientId", c.ID(), "actor", in.key.actor, "actorId", in.key.id, "err", err)
		return
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if known, ok := in.known[c.ID()]; ok && known == c { // not closed meanwhile
		if in.connCtx == nil {
			in.connCtx = map[string]any{}
		}
		in.connCtx[c.ID()] = mctx
	}
}
