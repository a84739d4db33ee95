package wsepoll_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/internal/testsupport/wstest"
	"github.com/zocket-go/zocket/transport/wsepoll"
	"github.com/zocket-go/zocket/zockettest/conformance"
	"github.com/zocket-go/zocket/zockettest/conformance/fixtures"
)

// TestConformance runs every server/wire check of the conformance suite against
// this transport over real WebSockets: from a raw listener with epoll,
// from an http.Handler, and with a goroutine per connection.
func TestConformance(t *testing.T) {
	t.Run("RawListener", func(t *testing.T) {
		conformance.Run(t, conformance.Target{Start: func(tb testing.TB) string { return serveRaw(tb, wsepoll.Options{}) }})
	})
	t.Run("HTTPHandler", func(t *testing.T) {
		conformance.Run(t, conformance.Target{Start: func(tb testing.TB) string { return serveHTTP(tb, wsepoll.Options{}) }})
	})
	t.Run("GoroutinePerConn", func(t *testing.T) {
		conformance.Run(t, conformance.Target{Start: func(tb testing.TB) string {
			return serveRaw(tb, wsepoll.Options{GoroutinePerConn: true})
		}})
	})
}

// serveRaw serves the fixture app with wsepoll.Serve until tb ends.
func serveRaw(tb testing.TB, opts wsepoll.Options) string {
	tb.Helper()
	app, _ := fixtures.NewApp()
	return wstest.Serve(tb, func(ctx context.Context, ln net.Listener, _ *slog.Logger) error {
		return wsepoll.Serve(ctx, ln, app, opts)
	})
}

// serveHTTP serves the fixture app through Server.ServeHTTP mounted on a
// net/http mux.
func serveHTTP(tb testing.TB, opts wsepoll.Options) string {
	tb.Helper()
	app, _ := fixtures.NewApp()
	s, err := wsepoll.New(zocket.NewHandler(app), opts)
	if err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", s)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := errors.Join(srv.Shutdown(ctx), s.Shutdown(ctx), app.Close(ctx)); err != nil {
			tb.Errorf("shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			tb.Errorf("serve: %v", err)
		}
	})
	return "ws://" + ln.Addr().String()
}
