package wshttp_test

import (
	"context"
	"net"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/internal/testsupport/transporttest"
	"github.com/zocket-go/zocket/internal/testsupport/wstest"
	"github.com/zocket-go/zocket/transport/wscore"
	"github.com/zocket-go/zocket/transport/wshttp"
)

// options maps the contract's options onto this transport's.
func options(o wscore.Options) wshttp.Options {
	return wshttp.Options{
		OriginPatterns: o.OriginPatterns, Authenticate: o.Authenticate, ReadLimit: o.ReadLimit,
		PingInterval: o.PingInterval, PingTimeout: o.PingTimeout, SendQueue: o.SendQueue,
		SendQueueBytes: o.SendQueueBytes, WriteTimeout: o.WriteTimeout, Logger: o.Logger, OnSlowConsumer: o.OnSlowConsumer,
	}
}

// alone is a Server serving itself, with no mux around it.
type alone struct{ *wshttp.Server }

func (a alone) Serve(ctx context.Context, ln net.Listener) error { return a.Server.Serve(ctx, ln, nil) }

func (a alone) Conn(clientID string) zocket.Connection { return wshttp.ConnOf(a.Server, clientID) }

// TestContract runs the transport contract (internal/testsupport/transporttest).
func TestContract(t *testing.T) {
	transporttest.Run(t, func(h *zocket.Handler, o wscore.Options) (transporttest.Server, error) {
		s, err := wshttp.New(h, options(o))
		return alone{s}, err
	})
}

// start serves app from an httptest server until t ends.
func start(t *testing.T, app *zocket.App, opts wshttp.Options) string {
	t.Helper()
	s, err := wshttp.New(zocket.NewHandler(app), opts)
	require.NoError(t, err)
	srv := httptest.NewServer(s)
	t.Cleanup(func() {
		assert.NoError(t, s.Shutdown(context.Background()))
		srv.Close()
	})
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// Compressed frames go through coder/websocket's writer instead of the
// direct one, and arrive intact at every header size.
func TestCompressedFrameSizesRoundTrip(t *testing.T) {
	url := start(t, transporttest.App(), wshttp.Options{Compression: websocket.CompressionContextTakeover})
	c := wstest.DialWelcome(t, url)
	for _, n := range []int{0, 100, 125, 126, 127, 65535, 65536, 200000} {
		r := c.Call("blob", "sizes", "echoSize", map[string]any{"n": n})
		require.NotContains(t, r, "error")
		assert.Len(t, r["result"], n)
	}
}
