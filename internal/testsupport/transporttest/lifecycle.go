package transporttest

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/internal/testsupport/wstest"
	"github.com/zocket-go/zocket/transport/wscore"
)

// A negative limit or timeout is an error, not silently the default.
func invalidOptionsAreRefused(t *testing.T, h harness) {
	for field, opts := range map[string]wscore.Options{
		"ReadLimit":      {ReadLimit: -1},
		"PingTimeout":    {PingTimeout: -time.Second},
		"SendQueue":      {SendQueue: -1},
		"SendQueueBytes": {SendQueueBytes: -1},
		"WriteTimeout":   {WriteTimeout: -time.Second},
	} {
		_, err := h.newServer(zocket.NewHandler(App()), opts)
		require.ErrorIs(t, err, wscore.ErrInvalidOptions, field)
		assert.ErrorContains(t, err, field)
	}
}

// A refused origin is logged at warn level with the setting that would
// allow it.
func refusedOriginIsLogged(t *testing.T, h harness) {
	logs := &recorder{}
	_, url := h.start(t, App(), wscore.Options{Logger: slog.New(logs)})
	_, resp, err := websocket.Dial(t.Context(), url, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"http://evil.example"}}})
	require.Error(t, err)
	require.NotNil(t, resp)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	rec, attrs, ok := logs.find("origin refused")
	require.True(t, ok, "the refusal was logged")
	assert.Equal(t, slog.LevelWarn, rec.Level)
	assert.Contains(t, rec.Message, "OriginPatterns")
	assert.Equal(t, "http://evil.example", attrs["origin"])
	assert.Equal(t, `OriginPatterns: []string{"evil.example"}`, attrs["allowWith"])
}

// Two servers share one App; stopping the first (its Serve's context ends)
// leaves the App open and the second serving.
func serveDoesNotCloseTheApp(t *testing.T, h harness) {
	app := App()
	_, secondURL := h.start(t, app, wscore.Options{})
	first, err := h.newServer(zocket.NewHandler(app), wscore.Options{})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	served := make(chan error, 1)
	go func() { served <- first.Serve(ctx, ln) }()

	a := wstest.DialWelcome(t, "ws://"+ln.Addr().String())
	a.Snapshot("blob", "shared")
	b := wstest.DialWelcome(t, secondURL)
	b.Snapshot("blob", "shared")
	stop()
	assert.Equal(t, websocket.StatusGoingAway, websocket.CloseStatus(awaitClosed(t, a)))
	require.NoError(t, awaitServed(t, served))

	b.MustCall("blob", "shared", "add", map[string]any{"n": 1})
	_, err = app.Invoke(t.Context(), "blob", "other", "who", nil)
	assert.NoError(t, err, "the App is still open")
}

// errBroken is the error of a failed listener.
var errBroken = errors.New("listener broken")

// breakable is a listener that fails, once broken, with errBroken.
type breakable struct {
	net.Listener
	broken chan struct{}
}

func (l *breakable) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	select {
	case <-l.broken:
		if nc != nil {
			nc.Close()
		}
		return nil, errBroken
	default:
		return nc, err
	}
}

func (l *breakable) breakNow() {
	close(l.broken)
	l.Listener.Close()
}

// When the listener fails, Serve returns its error only after shutting
// down what it started: connections are closed with 1001 and no goroutine
// remains.
func serveShutsDownWhenTheListenerFails(t *testing.T, h harness) {
	app := App()
	baseline := runtime.NumGoroutine()
	s, err := h.newServer(zocket.NewHandler(app), wscore.Options{})
	require.NoError(t, err)
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ln := &breakable{Listener: inner, broken: make(chan struct{})}
	served := make(chan error, 1)
	go func() { served <- s.Serve(context.Background(), ln) }()

	c := wstest.DialWelcome(t, "ws://"+inner.Addr().String())
	c.Snapshot("blob", "early")
	ln.breakNow()
	require.ErrorIs(t, awaitServed(t, served), errBroken)
	assert.Equal(t, websocket.StatusGoingAway, websocket.CloseStatus(awaitClosed(t, c)))
	assert.Equal(t, 0, s.Len())
	require.NoError(t, app.DestroyAll(t.Context()))
	awaitGoroutines(t, baseline)
}

// awaitServed returns Serve's result, failing the test after
// wstest.Patience.
func awaitServed(t *testing.T, served <-chan error) error {
	t.Helper()
	select {
	case err := <-served:
		return err
	case <-time.After(wstest.Patience):
		t.Fatalf("Serve did not return within %v", wstest.Patience)
		return nil
	}
}
