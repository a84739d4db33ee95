package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/client"
	"github.com/zocket-go/zocket/examples/chat/chatroom"
	"github.com/zocket-go/zocket/examples/conformance/fixtures"
	zws "github.com/zocket-go/zocket/transport/websocket"
	"github.com/zocket-go/zocket/transport/wscore"
)

// server runs the conformance fixtures plus the chat room ("chatroom") on addr
// ("127.0.0.1:0" for any port) until stop is called.
type server struct {
	url    string
	cancel context.CancelFunc
	done   chan error
}

func startServer(t testing.TB, addr string) *server {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the port of a server just stopped may take a moment
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.NoError(t, err)
	app, _ := fixtures.NewApp()
	app.Register("chatroom", chatroom.Actor())
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{url: "ws://" + ln.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() {
		err := zws.Serve(ctx, ln, app, zws.Options{Logger: slog.New(slog.DiscardHandler)})
		s.done <- errors.Join(err, app.Close(context.Background())) // Serve leaves the App to its owner
	}()
	t.Cleanup(s.stop)
	return s
}

func (s *server) stop() {
	s.cancel()
	<-s.done
	s.done <- nil // later stops return at once
}

func dial(t testing.TB, url string, opts client.Options) *client.Client {
	t.Helper()
	c, err := client.Dial(context.Background(), url, opts)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestTypedCallsEventsAndState(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0")
	c := dial(t, srv.url, client.Options{})
	room := c.Actor("chatroom", "general")
	defer room.Release()
	var mu sync.Mutex
	var events []chatroom.Message
	var states []chatroom.State
	offE := client.OnEvent(room, chatroom.NewMessage, func(m chatroom.Message) { mu.Lock(); events = append(events, m); mu.Unlock() })
	defer offE()
	offS := client.OnState(room, func(s chatroom.State) { mu.Lock(); states = append(states, s); mu.Unlock() })
	defer offS()
	eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(states) == 1 }, "snapshot")

	_, err := client.Call(context.Background(), room, chatroom.SendMessage, chatroom.Message{From: "Al", Text: "hi"})
	require.NoError(t, err)
	eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(states) == 2 && len(events) == 1 }, "patch and event")
	mu.Lock()
	assert.Equal(t, []chatroom.Message{{From: "Al", Text: "hi"}}, states[1].Messages)
	assert.Equal(t, chatroom.Message{From: "Al", Text: "hi"}, events[0])
	mu.Unlock()

	_, err = client.Call(context.Background(), room, chatroom.SendMessage, chatroom.Message{From: "Al"})
	var se *client.ServerError
	require.ErrorAs(t, err, &se)
	assert.True(t, strings.HasPrefix(se.Message, "Validation failed for sendMessage: "))

	st, ok, err := client.StateOf[chatroom.State](room)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Len(t, st.Messages, 1)
}

// A real server that accepts the socket and never answers.
func TestCase64_TimeoutAgainstBlackHole(t *testing.T) {
	hole := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		for {
			if _, _, err := ws.Read(context.Background()); err != nil {
				return
			}
		}
	}))
	defer hole.Close()
	c := dial(t, "ws"+strings.TrimPrefix(hole.URL, "http"), client.Options{RPCTimeout: 100 * time.Millisecond})
	start := time.Now()
	_, err := c.Actor("chat", "r").Call(context.Background(), "sendMessage", map[string]any{"text": "x"})
	el := time.Since(start)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "timed out")
	assert.GreaterOrEqual(t, el, 90*time.Millisecond)
	assert.Less(t, el, 500*time.Millisecond)
}

func TestCase66_RefCountingWithDeferredDisposal(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0")
	var sent []string
	var mu sync.Mutex
	rec := func(ctx context.Context, url string) (client.Socket, error) {
		s, err := client.CoderDialer(nil, 1<<20)(ctx, url)
		return &recordingSocket{Socket: s, record: func(f string) { mu.Lock(); sent = append(sent, f); mu.Unlock() }}, err
	}
	c := dial(t, srv.url, client.Options{Dial: rec, DisposeDelay: 20 * time.Millisecond})
	subs := func() []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for _, f := range sent {
			if strings.Contains(f, "sub\"") {
				out = append(out, f)
			}
		}
		return out
	}
	h1, h2 := c.Actor("chat", "r"), c.Actor("chat", "r")
	h2.Subscribe(func(any) {})
	h1.Release()
	h1.Release() // twice: harmless
	_, err := h2.Call(context.Background(), "addMember", map[string]any{"name": "a"})
	require.NoError(t, err)
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, []string{`{"type":"state:sub","actor":"chat","actorId":"r"}`}, subs(), "releasing one of two references sends nothing")

	// Release and re-acquire at once: no traffic, subscriptions keep working.
	h2.Release()
	h3 := c.Actor("chat", "r")
	_, err = h3.Call(context.Background(), "addMember", map[string]any{"name": "b"})
	require.NoError(t, err)
	eventually(t, func() bool {
		st, _, _ := client.StateOf[struct {
			Members []string `json:"members"`
		}](h3)
		return len(st.Members) == 2
	}, "state keeps flowing")
	time.Sleep(50 * time.Millisecond)
	assert.Len(t, subs(), 1)

	// The last release unsubscribes after the delay.
	h3.Release()
	eventually(t, func() bool { return len(subs()) == 2 }, "state:unsub")
	assert.Equal(t, `{"type":"state:unsub","actor":"chat","actorId":"r"}`, subs()[1])
}

type recordingSocket struct {
	client.Socket
	record func(string)
}

func (s *recordingSocket) Write(ctx context.Context, f []byte) error {
	s.record(string(f))
	return s.Socket.Write(ctx, f)
}

func TestCase70_ClientIDTracking(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0")
	c := client.New(srv.url, client.Options{ReconnectDelay: zero})
	defer c.Close()
	require.NoError(t, c.Ready(context.Background()))
	eventually(t, func() bool { return c.ClientID() != "" }, "welcome")
	who, err := c.Actor("echo", "x").Call(context.Background(), "whoAmI", nil)
	require.NoError(t, err)
	assert.Equal(t, `"`+c.ClientID()+`"`, string(who))
	first := c.ClientID()

	srv.stop()
	eventually(t, func() bool { return c.ClientID() == "" }, "cleared on unexpected close")
	startServer(t, strings.TrimPrefix(srv.url, "ws://"))
	eventually(t, func() bool { return c.ClientID() != "" }, "new welcome")
	assert.NotEqual(t, first, c.ClientID())
}

// Fault test: the server stops mid-session and comes back. The pending
// RPC fails with the close reason; the client reconnects, re-subscribes and
// state subscribers get a fresh snapshot (the new server's state: an App
// keeps state in memory only).
func TestServerRestartMidSession(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0")
	c := client.New(srv.url, client.Options{ReconnectDelay: func(int) time.Duration { return 20 * time.Millisecond }})
	defer c.Close()
	require.NoError(t, c.Ready(context.Background()))
	h := c.Actor("counter", "c")
	var snaps atomic.Int32
	var last atomic.Value
	h.Subscribe(func(v any) { snaps.Add(1); b, _ := json.Marshal(v); last.Store(string(b)) })
	eventually(t, func() bool { return snaps.Load() == 1 }, "first snapshot")
	_, err := h.Call(context.Background(), "incrementSlow", map[string]any{"label": "a", "waitMs": 0})
	require.NoError(t, err)

	errc := make(chan error, 1)
	go func() {
		_, err := h.Call(context.Background(), "incrementSlow", map[string]any{"label": "slow", "waitMs": 3000})
		errc <- err
	}()
	time.Sleep(100 * time.Millisecond)
	go srv.stop() // waits for the slow call; the socket closes with 1001 first
	err = <-errc
	assert.ErrorIs(t, err, client.ErrConnectionLost)
	assert.Equal(t, wscore.ReasonShutdown, err.Error())
	eventually(t, func() bool { return c.Status() == client.Reconnecting }, "reconnecting")

	startServer(t, strings.TrimPrefix(srv.url, "ws://"))
	eventually(t, func() bool { return c.Status() == client.Connected }, "reconnected")
	eventually(t, func() bool { return snaps.Load() >= 3 }, "fresh snapshot after reconnect")
	assert.JSONEq(t, `{"count":0,"order":[]}`, last.Load().(string))
	r, err := h.Call(context.Background(), "incrementSlow", map[string]any{"label": "b", "waitMs": 0})
	require.NoError(t, err)
	assert.Equal(t, "1", string(r))
}

func TestDialDeadPortTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	start := time.Now()
	_, err = client.Dial(context.Background(), "ws://"+addr, client.Options{ConnectTimeout: 300 * time.Millisecond})
	assert.EqualError(t, err, "WebSocket did not connect within 300ms")
	assert.Less(t, time.Since(start), 2*time.Second)
}

// 100 goroutines share one client: calls, subscriptions and handles
// concurrently, under the race detector.
func TestManyGoroutinesShareOneClient(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0")
	c := dial(t, srv.url, client.Options{})
	var wg sync.WaitGroup
	for g := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := c.Actor("plain", fmt.Sprint("p", g%10))
			defer h.Release()
			off := h.Subscribe(func(any) {})
			defer off()
			offE := h.On("x", func(json.RawMessage) {})
			defer offE()
			for range 10 {
				if _, err := h.Call(context.Background(), "increment", nil); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	total := 0
	for i := range 10 {
		r, err := c.Actor("plain", fmt.Sprint("p", i)).Call(context.Background(), "increment", nil)
		require.NoError(t, err)
		var n int
		require.NoError(t, json.Unmarshal(r, &n))
		total += n - 1
	}
	assert.Equal(t, 1000, total, "every call ran exactly once")
}

var _ = zocket.None{}
