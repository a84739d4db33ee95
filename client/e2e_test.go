package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/client"
	"github.com/zocket-go/zocket/examples/chat/chatroom"
	"github.com/zocket-go/zocket/internal/testsupport/poll"
	"github.com/zocket-go/zocket/transport/wscore"
	"github.com/zocket-go/zocket/transport/wshttp"
	"github.com/zocket-go/zocket/zockettest"
	"github.com/zocket-go/zocket/zockettest/conformance/fixtures"
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
	// The port of a server just stopped is free once the kernel lets go
	// of it; nothing announces that.
	poll.Until(t, func() bool { ln, err = net.Listen("tcp", addr); return err == nil }, "listening on "+addr)
	app := e2eApp()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{url: "ws://" + ln.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() {
		err := wshttp.Serve(ctx, ln, app, wshttp.Options{Logger: slog.New(slog.DiscardHandler)})
		s.done <- errors.Join(err, app.Close(context.Background())) // Serve leaves the App to its owner
	}()
	t.Cleanup(s.stop)
	return s
}

// e2eApp is the conformance fixtures plus the chat room ("chatroom").
func e2eApp() *zocket.App {
	app, _ := fixtures.NewApp()
	return app.Register("chatroom", chatroom.Actor())
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
	synctest.Test(t, func(t *testing.T) {
		c := zockettest.NewServer(e2eApp(), zockettest.Options{}).Client(t, client.Options{})
		room := c.Actor("chatroom", "general")
		defer room.Release()
		var mu sync.Mutex
		var events []chatroom.Message
		var states []chatroom.State
		offE := client.OnEvent(room, chatroom.NewMessage, func(m chatroom.Message) { mu.Lock(); events = append(events, m); mu.Unlock() })
		defer offE()
		offS := client.OnState(room, func(s chatroom.State) { mu.Lock(); states = append(states, s); mu.Unlock() })
		defer offS()
		synctest.Wait()
		mu.Lock()
		require.Len(t, states, 1, "snapshot")
		mu.Unlock()

		_, err := client.Call(context.Background(), room, chatroom.SendMessage, chatroom.Message{From: "Al", Text: "hi"})
		require.NoError(t, err)
		synctest.Wait()
		mu.Lock()
		require.Len(t, states, 2, "patch")
		require.Len(t, events, 1, "event")
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
	})
}

// A server that takes the call and never answers: the call fails after
// exactly RPCTimeout of the bubble's fake clock.
func TestCall_TimesOutAfterRPCTimeoutWhenTheServerNeverAnswers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, s, _ := openClient(t, client.Options{RPCTimeout: 100 * time.Millisecond})
		start := time.Now()
		_, err := c.Actor("chat", "r").Call(context.Background(), "sendMessage", map[string]any{"text": "x"})
		assert.ErrorIs(t, err, client.ErrTimeout)
		assert.Equal(t, 100*time.Millisecond, time.Since(start))
		assert.Len(t, s.frames(), 1, "the call was sent")
	})
}

// In memory and in a synctest bubble, "nothing was sent" is checked once
// every goroutine waits, not after a pause.
func TestHandle_RefCountedWithDeferredRelease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		app, _ := fixtures.NewApp()
		srv := zockettest.NewServer(app, zockettest.Options{})
		var sent []string
		var mu sync.Mutex
		rec := func(ctx context.Context, url string) (client.Socket, error) {
			s, err := srv.Dial(ctx, url)
			return &recordingSocket{Socket: s, record: func(f string) { mu.Lock(); sent = append(sent, f); mu.Unlock() }}, err
		}
		c := dial(t, zockettest.URL, client.Options{Dial: rec, DisposeDelay: 20 * time.Millisecond})
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
		settle := func() { time.Sleep(50 * time.Millisecond); synctest.Wait() }
		h1, h2 := c.Actor("chat", "r"), c.Actor("chat", "r")
		h2.Subscribe(func(any) {})
		h1.Release()
		h1.Release() // twice: harmless
		_, err := h2.Call(context.Background(), "addMember", map[string]any{"name": "a"})
		require.NoError(t, err)
		settle()
		assert.Equal(t, []string{`{"type":"state:sub","actor":"chat","actorId":"r","version":0,"epoch":""}`}, subs(), "releasing one of two references sends nothing")

		// Release and re-acquire at once: no traffic, subscriptions keep working.
		h2.Release()
		h3 := c.Actor("chat", "r")
		_, err = h3.Call(context.Background(), "addMember", map[string]any{"name": "b"})
		require.NoError(t, err)
		settle()
		st, _, _ := client.StateOf[struct {
			Members []string `json:"members"`
		}](h3)
		assert.Len(t, st.Members, 2, "state keeps flowing")
		assert.Len(t, subs(), 1)

		// The last release unsubscribes after the delay.
		h3.Release()
		settle()
		assert.Equal(t, []string{`{"type":"state:sub","actor":"chat","actorId":"r","version":0,"epoch":""}`,
			`{"type":"state:unsub","actor":"chat","actorId":"r"}`}, subs())
	})
}

type recordingSocket struct {
	client.Socket
	record func(string)
}

// Write records f once it is written: a test that waits for a record knows
// the frame left (a record before the write raced with closing the socket).
func (s *recordingSocket) Write(ctx context.Context, f []byte) error {
	if err := s.Socket.Write(ctx, f); err != nil {
		return err
	}
	s.record(string(f))
	return nil
}

func TestClientID_TracksWelcome(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := zockettest.NewServer(e2eApp(), zockettest.Options{})
		c := srv.Client(t, client.Options{ReconnectDelay: func(int) time.Duration { return time.Second }})
		synctest.Wait()
		require.NotEmpty(t, c.ClientID(), "welcome")
		who, err := c.Actor("echo", "x").Call(context.Background(), "whoAmI", nil)
		require.NoError(t, err)
		assert.Equal(t, `"`+c.ClientID()+`"`, string(who))
		first := c.ClientID()

		srv.Drop("restart")
		synctest.Wait()
		assert.Empty(t, c.ClientID(), "cleared on unexpected close")
		time.Sleep(time.Second) // the reconnect delay, on the fake clock
		synctest.Wait()
		assert.NotEmpty(t, c.ClientID(), "new welcome")
		assert.NotEqual(t, first, c.ClientID())
	})
}

// Fault test: the server stops mid-session and comes back. The pending
// RPC fails with the close reason; the client reconnects, re-subscribes and
// state subscribers get a fresh snapshot (the new server's state: an App
// keeps state in memory only).
func TestServerRestartMidSession(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0")
	slowSent := make(chan struct{})
	var once sync.Once
	dial := func(ctx context.Context, url string) (client.Socket, error) {
		s, err := client.CoderDialer(nil, 1<<20)(ctx, url)
		if err != nil {
			return nil, err
		}
		return &recordingSocket{Socket: s, record: func(f string) {
			if strings.Contains(f, `"slow"`) {
				once.Do(func() { close(slowSent) })
			}
		}}, err
	}
	c := client.New(srv.url, client.Options{Dial: dial, ReconnectDelay: func(int) time.Duration { return 20 * time.Millisecond }})
	defer c.Close()
	statuses := make(chan client.Status, 64)
	c.OnStatus(func(s client.Status) { statuses <- s })
	require.NoError(t, c.Ready(context.Background()))
	h := c.Actor("counter", "c")
	snaps := make(chan string, 64)
	h.Subscribe(func(v any) { b, _ := json.Marshal(v); snaps <- string(b) })
	assert.JSONEq(t, `{"count":0,"order":[]}`, await(t, snaps, ""), "first snapshot")
	_, err := h.Call(context.Background(), "incrementSlow", map[string]any{"label": "a", "waitMs": 0})
	require.NoError(t, err)
	assert.Contains(t, await(t, snaps, ""), `"count":1`, "patched")

	errc := make(chan error, 1)
	go func() {
		_, err := h.Call(context.Background(), "incrementSlow", map[string]any{"label": "slow", "waitMs": 3000})
		errc <- err
	}()
	<-slowSent    // in flight: the client waits for its result
	go srv.stop() // waits for the slow call; the socket closes with 1001 first
	err = <-errc
	assert.ErrorIs(t, err, client.ErrConnectionLost)
	assert.Equal(t, wscore.ReasonShutdown, err.Error())
	await(t, statuses, client.Reconnecting)

	startServer(t, strings.TrimPrefix(srv.url, "ws://"))
	await(t, statuses, client.Connected)
	assert.JSONEq(t, `{"count":0,"order":[]}`, await(t, snaps, ""), "fresh snapshot after reconnect")
	r, err := h.Call(context.Background(), "incrementSlow", map[string]any{"label": "b", "waitMs": 0})
	require.NoError(t, err)
	assert.Equal(t, "1", string(r))
}

// await returns the next value from ch that equals want, or the next
// value at all when want is the zero value. The deadline only bounds a
// failure.
func await[T comparable](t *testing.T, ch <-chan T, want T) T {
	t.Helper()
	var zero T
	for {
		select {
		case v := <-ch:
			if want == zero || v == want {
				return v
			}
		case <-time.After(poll.Deadline):
			t.Fatalf("never got %v", want)
			return zero
		}
	}
}

func TestDialDeadPortTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	_, err = client.Dial(context.Background(), "ws://"+addr, client.Options{ConnectTimeout: 300 * time.Millisecond})
	assert.EqualError(t, err, "WebSocket did not connect within 300ms")
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
