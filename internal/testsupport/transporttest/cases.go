package transporttest

import (
	"context"
	"encoding/json"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/internal/testsupport/wstest"
	"github.com/zocket-go/zocket/transport/wscore"
)

func rawDial(t *testing.T, url string, h http.Header) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.Dial(t.Context(), url, &websocket.DialOptions{HTTPHeader: h})
	require.NoError(t, err)
	c.SetReadLimit(-1)
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func slowConsumerIsClosedOthersUnaffected(t *testing.T, h harness) {
	closed := make(chan string, 1)
	_, url := h.start(t, App(), wscore.Options{SendQueue: 4, OnSlowConsumer: func(id string) { closed <- id }})
	slow := rawDial(t, url, nil)
	require.NoError(t, slow.Write(t.Context(), websocket.MessageText, []byte(`{"type":"event:sub","actor":"blob","actorId":"b"}`)))
	writer := wstest.DialWelcome(t, url)
	// Each call broadcasts a 64 KiB event (events, unlike state frames,
	// cannot be sent again later: they close a slow consumer): the slow
	// client's socket buffers fill, then its queue. The slow client reads
	// nothing until every call returned, so a writer held up by it would
	// hang.
	for range 300 {
		writer.MustCall("blob", "b", "shout", map[string]any{"n": 64 << 10})
	}
	// Now read: queued frames, then the close.
	var err error
	for err == nil {
		_, _, err = slow.Read(t.Context())
	}
	assert.Equal(t, websocket.StatusPolicyViolation, websocket.CloseStatus(err), err)
	var ce websocket.CloseError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "slow consumer: outbound queue full", ce.Reason)
	select {
	case id := <-closed:
		assert.NotEmpty(t, id, "OnSlowConsumer hears the closed connection's id")
	case <-time.After(wstest.Patience):
		t.Fatal("OnSlowConsumer was not called")
	}
}

// waitGone reads watcher's frames until a patch records that a client
// left (onDisconnect).
func waitGone(t *testing.T, watcher *wstest.Client) {
	t.Helper()
	watcher.Until(func(f wstest.Frame) bool {
		return f.Type() == "state:patch" && strings.Contains(f.String(), "gone:")
	})
}

func deadPeerDetectedByPing(t *testing.T, h harness) {
	_, url := h.start(t, App(), wscore.Options{PingInterval: 50 * time.Millisecond, PingTimeout: 100 * time.Millisecond})
	watcher := wstest.DialWelcome(t, url)
	// A peer that never reads never answers pings; its socket stays open.
	dead := rawDial(t, url, nil)
	require.NoError(t, dead.Write(t.Context(), websocket.MessageText, []byte(`{"type":"state:sub","actor":"blob","actorId":"p"}`)))
	watcher.Sub("state:sub", "blob", "p")
	waitGone(t, watcher)
}

// A peer that answers every ping stays connected. Both transports send a
// ping only once the previous one is answered, so a fifth ping proves four
// answers were taken; PingTimeout is far beyond any scheduling delay.
func livePeerAnswersPingsAndStays(t *testing.T, h harness) {
	s, url := h.start(t, App(), wscore.Options{PingInterval: 20 * time.Millisecond, PingTimeout: wstest.Patience})
	p := dialPinged(t, url)
	for range 5 {
		p.awaitPingAndAnswer()
	}
	assert.Equal(t, 1, s.Len(), "the peer answered every ping and is still connected")
	p.send(`{"type":"rpc","id":"r1","actor":"blob","actorId":"live","method":"echoSize","input":{"n":1}}`)
	for !strings.Contains(p.awaitText(), `"type":"rpc:result"`) {
	}
}

// A call's answer is written even when the next input is only a control
// frame (here an unsolicited pong, as a ping's answer may be): reading it
// yields no message, so the answer must not wait for one.
func answerNotHeldBehindAControlFrame(t *testing.T, h harness) {
	_, url := h.start(t, App(), wscore.Options{})
	p := dialPinged(t, url)
	p.send(`{"type":"rpc","id":"r1","actor":"blob","actorId":"c","method":"who"}`) // activate: later calls find it idle
	for !strings.Contains(p.awaitText(), `"id":"r1"`) {
	}
	p.sendTogether(
		ws.NewTextFrame([]byte(`{"type":"rpc","id":"r2","actor":"blob","actorId":"c","method":"who"}`)),
		ws.NewPongFrame(nil))
	for !strings.Contains(p.awaitText(), `"id":"r2"`) {
	}
}

func originsSameOriginByDefault(t *testing.T, h harness) {
	_, url := h.start(t, App(), wscore.Options{})
	_, resp, err := websocket.Dial(t.Context(), url, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"http://evil.example"}}})
	require.Error(t, err)
	require.NotNil(t, resp)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	rawDial(t, url, http.Header{"Origin": {"http://" + strings.TrimPrefix(url, "ws://")}})

	_, url = h.start(t, App(), wscore.Options{OriginPatterns: []string{"good.example"}})
	rawDial(t, url, http.Header{"Origin": {"http://good.example"}})
}

func authenticateHook(t *testing.T, h harness) {
	_, url := h.start(t, App(), wscore.Options{Authenticate: func(r *http.Request) (zocket.Identity, error) {
		switch r.URL.Query().Get("token") {
		case "good":
			return zocket.Identity{UserID: "u1", Claims: map[string]any{"role": "admin"}}, nil
		case "banned":
			return zocket.Identity{}, &wscore.HTTPError{Status: http.StatusForbidden, Message: "banned"}
		}
		return zocket.Identity{}, context.Canceled
	}})
	for token, status := range map[string]int{"banned": http.StatusForbidden, "bad": http.StatusUnauthorized} {
		_, resp, err := websocket.Dial(t.Context(), url+"/?token="+token, nil)
		require.Error(t, err)
		require.NotNil(t, resp, token)
		assert.Equal(t, status, resp.StatusCode, token)
	}
	c := wstest.DialWelcome(t, url+"/any/path?token=good")
	assert.Equal(t, map[string]any{"UserID": "u1", "Claims": map[string]any{"role": "admin"}, "Namespace": map[string]any{}},
		c.MustCall("blob", "b", "who", nil))
}

func readLimitClosesWith1009(t *testing.T, h harness) {
	_, url := h.start(t, App(), wscore.Options{ReadLimit: 1024})
	c := rawDial(t, url, nil)
	big := `{"type":"rpc","id":"r1","actor":"blob","actorId":"b","method":"echoSize","input":{"n":1,"pad":"` + strings.Repeat("p", 2000) + `"}}`
	require.NoError(t, c.Write(t.Context(), websocket.MessageText, []byte(big)))
	var err error
	for err == nil {
		_, _, err = c.Read(t.Context())
	}
	assert.Equal(t, websocket.StatusMessageTooBig, websocket.CloseStatus(err), err)
}

func shutdownClosesWithGoingAway(t *testing.T, h harness) {
	s, url := h.start(t, App(), wscore.Options{})
	c := wstest.DialWelcome(t, url)
	c.Snapshot("blob", "s")
	require.Equal(t, 1, s.Len())
	require.NoError(t, s.Shutdown(t.Context()))
	assert.Equal(t, websocket.StatusGoingAway, websocket.CloseStatus(c.Err()))
	_, resp, err := websocket.Dial(t.Context(), url, nil)
	require.Error(t, err)
	if resp != nil { // an HTTP server answers; a raw listener may just close
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	}
}

// After all connections close and instances are destroyed, goroutines
// return to the baseline.
func noGoroutineLeak(t *testing.T, h harness) {
	app := App()
	baseline := runtime.NumGoroutine()
	s, url := h.start(t, app, wscore.Options{PingInterval: 20 * time.Millisecond})
	var clients []*wstest.Client
	for i := range 50 {
		c := wstest.DialWelcome(t, url)
		c.Snapshot("blob", "leak"+strconv.Itoa(i%5))
		c.MustCall("blob", "leak"+strconv.Itoa(i%5), "add", map[string]any{"n": 1})
		clients = append(clients, c)
	}
	for _, c := range clients {
		c.Close()
		<-c.Closed()
	}
	awaitCondition(t, "every connection is closed", func() bool { return s.Len() == 0 })
	require.NoError(t, s.Shutdown(t.Context()))
	require.NoError(t, app.DestroyAll(t.Context()))
	assert.Equal(t, 0, app.Size())
	// A subscriber that closed while a patch was sent to it starts the
	// App's resynchronising goroutine, which the App owns until Close.
	require.NoError(t, app.Close(t.Context()))
	awaitGoroutines(t, baseline+2) // the test's own listener goroutines may remain
}

// Frames of every header size reach a standard client intact.
func frameSizesRoundTrip(t *testing.T, h harness) {
	_, url := h.start(t, App(), wscore.Options{})
	c := wstest.DialWelcome(t, url)
	for _, n := range []int{0, 100, 125, 126, 127, 65535, 65536, 200000} {
		r := c.Call("blob", "sizes", "echoSize", map[string]any{"n": n})
		require.NotContains(t, r, "error")
		assert.Len(t, r["result"], n)
	}
}

// A method that a transport runs on its reading goroutine (Handler.Dispatch
// on an idle instance) must not hold up the connection's later frames: a
// call to another instance is answered while the first one is held.
func slowInlineMethodDoesNotBlockReading(t *testing.T, h harness) {
	app, g := holdingApp(t)
	_, url := h.start(t, app, wscore.Options{})
	c := wstest.DialWelcome(t, url)
	c.MustCall("blob", "slow", "who", nil) // activate: later calls find it idle
	slow := c.RPC("blob", "slow", "hold", nil)
	g.awaitEntered(t)
	fast := c.RPC("blob", "other", "who", nil)
	assert.Equal(t, fast, c.Next()["id"], "the call to another instance was answered while the first was held")
	g.release <- struct{}{}
	assert.Equal(t, slow, c.Next()["id"])
	// And the connection keeps working after the hand-over.
	assert.Equal(t, 1.0, float64(len(c.MustCall("blob", "slow", "echoSize", map[string]any{"n": 1}).(string))))
}

// Nor must it hold up other connections, whatever goroutine the
// transport lent (transport/wsepoll may lend its event loop).
func slowInlineMethodDoesNotBlockOthers(t *testing.T, h harness) {
	app, g := holdingApp(t)
	_, url := h.start(t, app, wscore.Options{})
	a := wstest.DialWelcome(t, url)
	b := wstest.DialWelcome(t, url)
	a.MustCall("blob", "slow", "who", nil)
	b.MustCall("blob", "fast", "who", nil)
	for range 2 { // the second time, the transport serves a from a replaced goroutine
		slow := a.RPC("blob", "slow", "hold", nil)
		g.awaitEntered(t)
		b.MustCall("blob", "fast", "who", nil) // answered while a's call is held
		g.release <- struct{}{}
		assert.Equal(t, slow, a.Next()["id"])
	}
}

// A subscriber that stops reading while many small frames are sent: writes
// fill the socket, the rest waits for room, and when the subscriber reads
// again every frame arrives whole and in order.
func framesSurvivePartialWrites(t *testing.T, h harness) {
	const calls = 3000 // all in flight at once
	_, url := h.start(t, App(zocket.WithMaxInFlight(calls)), wscore.Options{SendQueue: 1 << 20})
	slow := rawDial(t, url, nil)
	require.NoError(t, slow.Write(t.Context(), websocket.MessageText, []byte(`{"type":"state:sub","actor":"blob","actorId":"pw"}`)))
	for { // subscribed before the first add: the patches start at /blobs/0
		_, data, err := slow.Read(t.Context())
		require.NoError(t, err)
		if strings.Contains(string(data), `"type":"state:snapshot"`) {
			break
		}
	}
	writer := wstest.DialWelcome(t, url)
	for range calls {
		writer.RPC("blob", "pw", "add", map[string]any{"n": 2000})
	}
	for range calls {
		writer.Next()
	}
	ctx, cancel := context.WithTimeout(t.Context(), wstest.Patience)
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
