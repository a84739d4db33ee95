package wstest

import (
	"context"
	"log/slog"
	"net"
	"runtime"
	"testing"
	"time"
)

// Serve runs serve on a random loopback port for the duration of the test
// and returns its ws:// URL; the test fails if the server does not shut
// down cleanly.
func Serve(t testing.TB, serve func(ctx context.Context, ln net.Listener, log *slog.Logger) error) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, slog.New(slog.DiscardHandler)) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(Patience):
			buf := make([]byte, 1<<20)
			t.Errorf("server did not shut down; goroutines:\n%s", buf[:runtime.Stack(buf, true)])
		}
	})
	return "ws://" + ln.Addr().String()
}
