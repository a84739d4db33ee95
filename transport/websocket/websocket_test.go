package websocket_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/internal/wstest"
	zws "github.com/zocket-go/zocket/transport/websocket"
)

type blobState struct {
	Blobs []string `json:"blobs"`
	Seen  []string `json:"seen"`
}

type size struct {
	N int `json:"n"`
}

func testApp() *zocket.App {
	return zocket.NewApp().Register("blob", zocket.NewActor[blobState]().Methods(
		zocket.MethodNoResult("add", func(c *zocket.Context[blobState, zocket.NoCtx], in size) error {
			c.State.Blobs = append(c.State.Blobs, strings.Repeat("x", in.N))
			return nil
		}),
		zocket.Method("echoSize", func(c *zocket.Context[blobState, zocket.NoCtx], in size) (string, error) {
			return strings.Repeat("y", in.N), nil
		}),
		zocket.MethodNoResult("sleep", func(c *zocket.Context[blobState, zocket.NoCtx], in size) error {
			time.Sleep(time.Duration(in.N) * time.Millisecond)
			return nil
		}),
		zocket.MethodNoInput("who", func(c *zocket.Context[blobState, zocket.NoCtx]) (zocket.Identity, error) {
			return c.Identity, nil
		}),
	).OnConnect(func(c *zocket.Lifecycle[blobState]) error {
		c.State.Seen = append(c.State.Seen, c.ClientID)
		return nil
	}).OnDisconnect(func(c *zocket.Lifecycle[blobState]) error {
		c.State.Seen = append(c.State.Seen, "gone:"+c.ClientID)
		return nil
	}))
}

func start(t *testing.T, opts zws.Options) (*zws.Server, string) {
	t.Helper()
	s := zws.New(zocket.NewHandler(testApp()), opts)
	srv := httptest.NewServer(s)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
		srv.Close()
	})
	return s, "ws" + strings.TrimPrefix(srv.URL, "http")
}

func rawDial(t *testing.T, url string, h http.Header) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.Dial(t.Context(), url, &websocket.DialOptions{HTTPHeader: h})
	require.NoError(t, err)
	c.SetReadLimit(-1)
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func TestSlowConsumerIsClosedOthersUnaffected(t *testing.T) {
	_, url := start(t, zws.Options{SendQueue: 4})
	slow := rawDial(t, url, nil)
	require.NoError(t, slow.Write(t.Context(), websocket.MessageText, []byte(`{"type":"state:sub","actor":"blob","actorId":"b"}`)))
	writer := wstest.DialWelcome(t, url)
	// Each call appends 64 KiB, so each patch is 64 KiB: the slow client's
	// socket buffers fill, then its queue.
	start := time.Now()
	for range 300 {
		writer.MustCall("blob", "b", "add", map[string]any{"n": 64 << 10})
	}
	assert.Less(t, time.Since(start), 20*time.Second, "the writer was held up by the slow reader")
	// Now read: queued frames, then the close.
	var err error
	for err == nil {
		_, _, err = slow.Read(t.Context())
	}
	assert.Equal(t, websocket.StatusPolicyViolation, websocket.CloseStatus(err), err)
	var ce websocket.CloseError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, zws.ReasonSlowConsumer, ce.Reason)
}

func TestDeadPeerDetectedByPing(t *testing.T) {
	_, url := start(t, zws.Options{PingInterval: 50 * time.Millisecond, PingTimeout: 100 * time.Millisecond})
	watcher := wstest.DialWelcome(t, url)
	// A peer that never reads never answers pings.
	dead := rawDial(t, url, nil)
	require.NoError(t, dead.Write(t.Context(), websocket.MessageText, []byte(`{"type":"state:sub","actor":"blob","actorId":"p"}`)))
	watcher.Sub("state:sub", "blob", "p")
	deadline := time.After(5 * time.Second)
	for {
		select {
		case <-deadline:
			t.Fatal("onDisconnect never ran for the dead peer")
		default:
		}
		f := watcher.Next()
		if f.Type() == "state:patch" && strings.Contains(f.String(), "gone:") {
			return
		}
	}
}

func TestOriginsSameOriginByDefault(t *testing.T) {
	_, url := start(t, zws.Options{})
	_, resp, err := websocket.Dial(t.Context(), url, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"http://evil.example"}}})
	require.Error(t, err)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)

	_, url = start(t, zws.Options{OriginPatterns: []string{"good.example"}})
	rawDial(t, url, http.Header{"Origin": {"http://good.example"}})
}

func TestAuthenticateHook(t *testing.T) {
	_, url := start(t, zws.Options{Authenticate: func(r *http.Request) (zocket.Identity, error) {
		switch r.URL.Query().Get("token") {
		case "good":
			return zocket.Identity{UserID: "u1", Claims: map[string]any{"role": "admin"}}, nil
		case "banned":
			return zocket.Identity{}, &zocket.HTTPError{Status: http.StatusForbidden, Message: "banned"}
		}
		return zocket.Identity{}, context.Canceled
	}})
	for token, status := range map[string]int{"banned": http.StatusForbidden, "bad": http.StatusUnauthorized} {
		_, resp, err := websocket.Dial(t.Context(), url+"/?token="+token, nil)
		require.Error(t, err)
		assert.Equal(t, status, resp.StatusCode, token)
	}
	c := wstest.DialWelcome(t, url+"/any/path?token=good")
	assert.Equal(t, map[string]any{"UserID": "u1", "Claims": map[string]any{"role": "admin"}, "Scope": map[string]any{}},
		c.MustCall("blob", "b", "who", nil))
}

func TestShutdownClosesWithGoingAwayAndRefusesNewConnections(t *testing.T) {
	s, url := start(t, zws.Options{})
	c := wstest.DialWelcome(t, url)
	c.Snapshot("blob", "s")
	require.Equal(t, 1, s.Len())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, s.Shutdown(ctx))
	assert.Equal(t, websocket.StatusGoingAway, websocket.CloseStatus(c.Err()))
	_, resp, err := websocket.Dial(t.Context(), url, nil)
	require.Error(t, err)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
}

func TestServeShutsDownOnContextCancel(t *testing.T) {
	var deactivated bool
	type st struct{}
	app := zocket.NewApp().Register("a", zocket.NewActor[st]().
		Methods(zocket.MethodNoIO("m", func(*zocket.Context[st, zocket.NoCtx]) error { return nil })).
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

// Invariant 7: after all connections close and instances are destroyed,
// goroutines return to the baseline.
func TestNoGoroutineLeak(t *testing.T) {
	app := testApp()
	s := zws.New(zocket.NewHandler(app), zws.Options{PingInterval: 20 * time.Millisecond})
	srv := httptest.NewServer(s)
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	baseline := runtime.NumGoroutine()
	var clients []*wstest.Client
	for i := range 50 {
		c := wstest.DialWelcome(t, url)
		c.Snapshot("blob", "leak"+strconv.Itoa(i%5))
		c.MustCall("blob", "leak"+strconv.Itoa(i%5), "add", map[string]any{"n": 1})
		clients = append(clients, c)
	}
	time.Sleep(50 * time.Millisecond) // let pings run
	for _, c := range clients {
		c.Close()
		<-c.Closed()
	}
	require.Eventually(t, func() bool { return s.Len() == 0 }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, app.DestroyAll(t.Context()))
	assert.Equal(t, 0, app.Size())
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: baseline %d, now %d\n%s", baseline, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Frames of every header size reach a standard client intact, with and
// without compression (which goes through coder/websocket's writer).
func TestFrameSizesRoundTrip(t *testing.T) {
	for _, mode := range []websocket.CompressionMode{websocket.CompressionDisabled, websocket.CompressionContextTakeover} {
		_, url := start(t, zws.Options{Compression: mode})
		c := wstest.DialWelcome(t, url)
		for _, n := range []int{0, 100, 125, 126, 127, 65535, 65536, 200000} {
			r := c.Call("blob", "sizes", "echoSize", map[string]any{"n": n})
			require.NotContains(t, r, "error")
			assert.Len(t, r["result"], n, "mode %v", mode)
		}
	}
}

// A method that the read goroutine runs itself (Handler.Dispatch on an idle
// instance) must not hold up the connection's later frames: reading moves to
// a new goroutine after a moment.
func TestSlowInlineMethodDoesNotBlockReading(t *testing.T) {
	_, url := start(t, zws.Options{})
	c := wstest.DialWelcome(t, url)
	c.MustCall("blob", "slow", "who", nil) // activate: later calls find it idle
	slow := c.RPC("blob", "slow", "sleep", map[string]any{"n": 300})
	start := time.Now()
	fast := c.RPC("blob", "other", "who", nil)
	r := c.Next()
	assert.Equal(t, fast, r["id"], "the call to another instance was answered first")
	assert.Less(t, time.Since(start), 200*time.Millisecond)
	assert.Equal(t, slow, c.Next()["id"])
	// And the connection keeps working after the hand-over.
	assert.Equal(t, 1.0, float64(len(c.MustCall("blob", "slow", "echoSize", map[string]any{"n": 1}).(string))))
}

// A subscriber that stops reading while many small frames are sent: the
// non-blocking writes fill the socket, the rest waits corked for the
// writer, and when the subscriber reads again every frame arrives whole
// and in order.
func TestFramesSurvivePartialWrites(t *testing.T) {
	_, url := start(t, zws.Options{SendQueue: 1 << 20})
	slow := rawDial(t, url, nil)
	require.NoError(t, slow.Write(t.Context(), websocket.MessageText, []byte(`{"type":"state:sub","actor":"blob","actorId":"pw"}`)))
	writer := wstest.DialWelcome(t, url)
	const calls = 3000
	for range calls {
		writer.RPC("blob", "pw", "add", map[string]any{"n": 2000})
	}
	for range calls {
		writer.Next()
	}
	// Read it all: a snapshot then one patch per call, each appending at
	// the next index.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	next := 0
	for next < calls {
		_, data, err := slow.Read(ctx)
		require.NoError(t, err)
		var m struct {
			Type    string `json:"type"`
			Patches []struct {
				Path  string `json:"path"`
				Value string `json:"value"`
			} `json:"patches"`
		}
		require.NoError(t, json.Unmarshal(data, &m), "frame %d is intact", next)
		if m.Type != "state:patch" || !strings.HasPrefix(m.Patches[0].Path, "/blobs/") {
			continue // the snapshot, onConnect's patches
		}
		require.Equal(t, "/blobs/"+strconv.Itoa(next), m.Patches[0].Path)
		require.Len(t, m.Patches[0].Value, 2000)
		next++
	}
}
