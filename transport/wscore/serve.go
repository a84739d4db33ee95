package wscore

import (
	"context"
	"errors"
	"time"
)

// ShutdownTimeout is how long Serve allows a graceful shutdown.
const ShutdownTimeout = 10 * time.Second

// Serve is the lifecycle every transport's Serve has: it runs accept
// (which accepts connections, typically from a listener, until shutdown
// stops it) until ctx ends or accept fails. Either way it then calls
// shutdown, allowing ShutdownTimeout, which must stop accept and close the
// connections (with StatusGoingAway), and waits for accept to return.
// It returns shutdown's error (nil when it went well) after a stop asked
// for by ctx, and accept's error joined with shutdown's otherwise.
//
// Serve never closes a zocket.App: the App belongs to whoever created it,
// and may outlive the server (two servers may share one).
func Serve(ctx context.Context, accept func() error, shutdown func(context.Context) error) error {
	errc := make(chan error, 1)
	go func() { errc <- accept() }()
	var err error
	stopped := false
	select {
	case err = <-errc:
	case <-ctx.Done():
		stopped = true
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeout)
	defer cancel()
	serr := shutdown(sctx)
	if stopped {
		<-errc // the error of a listener closed by shutdown
	}
	return errors.Join(err, serr)
}
