package client_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/client"
	"github.com/zocket-go/zocket/transport/wshttp"
)

// logBuffer is an slog destination the test can read while the client
// writes to it.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// gate is a zocket server behind an HTTP handler that can refuse the
// handshake with a status and count the handshakes it saw.
type gate struct {
	srv        *httptest.Server
	ws         *wshttp.Server
	refuseWith atomic.Int32 // 0: accept
	failFirst  atomic.Int32 // refuse that many handshakes with 503 first
	handshakes atomic.Int32
}

func newGate(t *testing.T, app *zocket.App) *gate {
	g := &gate{}
	ws, err := wshttp.New(zocket.NewHandler(app), wshttp.Options{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	g.ws = ws
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.handshakes.Add(1)
		if g.failFirst.Add(-1) >= 0 {
			http.Error(w, "warming up", http.StatusServiceUnavailable)
			return
		}
		if code := g.refuseWith.Load(); code != 0 {
			http.Error(w, "no entry", int(code))
			return
		}
		g.ws.ServeHTTP(w, r)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *gate) url() string { return "ws" + strings.TrimPrefix(g.srv.URL, "http") }

// statuses collects the statuses a client goes through.
func statuses(c *client.Client) <-chan client.Status {
	ch := make(chan client.Status, 16)
	c.OnStatus(func(s client.Status) { ch <- s })
	return ch
}

func waitStatus(t *testing.T, ch <-chan client.Status, want client.Status) {
	t.Helper()
	for {
		select {
		case s := <-ch:
			if s == want {
				return
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("status never became %s", want)
		}
	}
}

func TestDial_HandshakeRefusedWith4xxFailsAtOnceWithTheStatus(t *testing.T) {
	for _, code := range []int{http.StatusUnauthorized, http.StatusForbidden} {
		g := newGate(t, zocket.NewApp())
		g.refuseWith.Store(int32(code))
		var logs logBuffer
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		// No connect timeout and no backoff: only failing fast can return.
		_, err := client.Dial(ctx, g.url(), client.Options{ConnectTimeout: -1, ReconnectDelay: zero, Logger: logs.logger()})

		var he *client.HandshakeError
		require.ErrorAs(t, err, &he)
		assert.Equal(t, code, he.StatusCode)
		assert.Equal(t, int32(1), g.handshakes.Load(), "a refused handshake is not retried")
		assert.Contains(t, logs.String(), "level=ERROR")
	}
}

func TestDial_HandshakeFailingWith5xxIsRetried(t *testing.T) {
	g := newGate(t, zocket.NewApp())
	g.failFirst.Store(2)
	c, err := client.Dial(context.Background(), g.url(), client.Options{ReconnectDelay: zero})
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, int32(3), g.handshakes.Load())
	assert.NoError(t, c.Err())
}

func TestReconnect_RefusedWith4xxStopsAndReports(t *testing.T) {
	g := newGate(t, zocket.NewApp())
	var logs logBuffer
	c := dial(t, g.url(), client.Options{ReconnectDelay: zero, Logger: logs.logger()})
	seen := statuses(c)

	g.refuseWith.Store(http.StatusUnauthorized)             // e.g. the token expired
	require.NoError(t, g.ws.Shutdown(context.Background())) // drops the client
	waitStatus(t, seen, client.Disconnected)

	var he *client.HandshakeError
	require.ErrorAs(t, c.Err(), &he)
	assert.Equal(t, http.StatusUnauthorized, he.StatusCode)
	assert.Equal(t, int32(2), g.handshakes.Load(), "one refused reconnect, then no more")
	assert.Contains(t, logs.String(), "level=ERROR")
	_, err := c.CallRaw(context.Background(), "a", "b", "m", nil)
	assert.ErrorIs(t, err, client.ErrNotConnected)
	assert.ErrorAs(t, err, &he, "calls tell why")
}

// blob is an actor whose snapshot is bigger than a small read limit.
type blob struct {
	Data string `json:"data"`
}

func TestReadLimit_SnapshotOverTheLimitStopsTheClientInsteadOfReconnecting(t *testing.T) {
	app := zocket.NewApp().Register("blob", zocket.NewActor[blob]().
		Initial(func() blob { return blob{Data: strings.Repeat("x", 4096)} }))
	g := newGate(t, app)
	var logs logBuffer
	c := dial(t, g.url(), client.Options{ReconnectDelay: zero, Logger: logs.logger(),
		Dial: client.CoderDialer(nil, 1024)})
	seen := statuses(c)

	h := c.Actor("blob", "big")
	defer h.Release()
	h.Subscribe(func(any) {})
	waitStatus(t, seen, client.Disconnected)

	assert.ErrorIs(t, c.Err(), client.ErrMessageTooBig)
	assert.Equal(t, int32(1), g.handshakes.Load(), "no reconnect: the snapshot would be too big again")
	assert.Contains(t, logs.String(), "level=ERROR")
	_, err := c.CallRaw(context.Background(), "blob", "big", "m", nil)
	assert.ErrorIs(t, err, client.ErrMessageTooBig)
}

func TestStop_WakesCallsWaitingForASocket(t *testing.T) {
	n := newFakeNet()
	c := client.New("ws://fake", client.Options{Dial: n.dial, ReconnectDelay: zero, RPCTimeout: -1})
	defer c.Close()
	s := n.next(t)
	errc := make(chan error, 1)
	go func() {
		_, err := c.CallRaw(context.Background(), "a", "b", "m", nil)
		errc <- err
	}()
	s.opened <- &client.HandshakeError{StatusCode: 401, Err: errors.New("refused")}
	select {
	case err := <-errc:
		assert.ErrorIs(t, err, client.ErrNotConnected)
		var he *client.HandshakeError
		assert.ErrorAs(t, err, &he)
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting call was not woken")
	}
}
