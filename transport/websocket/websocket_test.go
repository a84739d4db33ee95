package websocket_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/internal/transporttest"
	"github.com/zocket-go/zocket/internal/wstest"
	zws "github.com/zocket-go/zocket/transport/websocket"
)

// start serves app from an httptest server until t ends.
func start(t *testing.T, app *zocket.App, opts zws.Options) (*zws.Server, string) {
	t.Helper()
	s := zws.New(zocket.NewHandler(app), opts)
	srv := httptest.NewServer(s)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
		srv.Close()
	})
	return s, "ws" + strings.TrimPrefix(srv.URL, "http")
}

// TestContract runs the transport contract (internal/transporttest).
func TestContract(t *testing.T) {
	transporttest.Run(t, func(t *testing.T, app *zocket.App, cfg transporttest.Config) (transporttest.Server, string) {
		return start(t, app, zws.Options{
			SendQueue: cfg.SendQueue, PingInterval: cfg.PingInterval, PingTimeout: cfg.PingTimeout,
			ReadLimit: cfg.ReadLimit, OriginPatterns: cfg.OriginPatterns, Authenticate: cfg.Authenticate,
		})
	})
}

func TestServeShutsDownOnContextCancel(t *testing.T) {
	var deactivated bool
	type st struct{}
	app := zocket.NewApp().Register("a", zocket.NewActor[st]().
		Methods(zocket.MethodNoIO("m", func(*zocket.Context[st, zocket.NoData]) error { return nil })).
		OnDeactivate(func(*zocket.Lifecycle[st]) error { deactivated = true; return nil }))
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- zws.ListenAndServe(ctx, "127.0.0.1:0", app, zws.Options{}) }()
	// ListenAndServe on :0 cannot be dialled without the address; Invoke
	// creates an instance so that Close has something to deactivate.
	_, err := app.Invoke(t.Context(), "a", "1", "m", nil)
	require.NoError(t, err)
	cancel()
	require.NoError(t, <-errc)
	assert.True(t, deactivated, "App.Close ran onDeactivate")
}

// Compressed frames go through coder/websocket's writer instead of the
// direct one, and arrive intact at every header size.
func TestCompressedFrameSizesRoundTrip(t *testing.T) {
	_, url := start(t, transporttest.App(), zws.Options{Compression: websocket.CompressionContextTakeover})
	c := wstest.DialWelcome(t, url)
	for _, n := range []int{0, 100, 125, 126, 127, 65535, 65536, 200000} {
		r := c.Call("blob", "sizes", "echoSize", map[string]any{"n": n})
		require.NotContains(t, r, "error")
		assert.Len(t, r["result"], n)
	}
}
