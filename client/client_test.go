package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/client"
)

func TestReady_FailsAfterConnectTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newFakeNet()
		c := client.New("ws://fake", client.Options{ConnectTimeout: 25 * time.Millisecond, NoReconnect: true, Dial: n.dial})
		defer c.Close()
		n.next(t).fail("refused")
		err := c.Ready(context.Background())
		assert.EqualError(t, err, "WebSocket did not connect within 25ms")
		assert.ErrorIs(t, err, client.ErrTimeout)
	})
}

func TestCall_WaitingForSocketTimesOutAndIsNeverSentLate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newFakeNet()
		c := client.New("ws://fake", client.Options{RPCTimeout: 25 * time.Millisecond, ConnectTimeout: -1, NoReconnect: true, Dial: n.dial})
		defer c.Close()
		s := n.next(t)
		_, err := c.Actor("chat", "room-1").Call(context.Background(), "sendMessage", map[string]any{"text": "x"})
		assert.EqualError(t, err, "WebSocket was not ready within 25ms")
		s.open()
		synctest.Wait() // the client has done all it does on open
		assert.Empty(t, s.frames(), "a call that timed out waiting is never sent")
	})
}

func TestReconnect_ReplaysSubscriptionsInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, s1, n := openClient(t, client.Options{ReconnectDelay: zero})
		h := c.Actor("chat", "room-reconnect")
		h.On("message", func(json.RawMessage) {})
		h.Subscribe(func(any) {})
		want := []string{`{"type":"event:sub","actor":"chat","actorId":"room-reconnect"}`,
			`{"type":"state:sub","actor":"chat","actorId":"room-reconnect","version":0,"epoch":""}`}
		assert.Equal(t, want, s1.frames())
		s1.drop("dropped")
		s2 := n.next(t)
		s2.open()
		synctest.Wait()
		require.Len(t, s2.frames(), 2, "resubscribed")
		assert.Equal(t, want, s2.frames())
	})
}

func TestCall_WaitsForReconnect(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, s1, n := openClient(t, client.Options{RPCTimeout: time.Second, ReconnectDelay: zero})
		s1.drop("")
		s2 := n.next(t)
		type res struct {
			raw json.RawMessage
			err error
		}
		done := make(chan res, 1)
		go func() {
			r, err := c.Actor("chat", "r").Call(context.Background(), "sendMessage", map[string]any{"text": "after reconnect"})
			done <- res{r, err}
		}()
		synctest.Wait() // the call waits for the socket
		assert.Empty(t, s2.frames())
		s2.open()
		synctest.Wait()
		require.Len(t, s2.frames(), 1, "rpc sent")
		m := frameMap(t, s2.frames()[0])
		assert.Equal(t, "rpc", m["type"])
		assert.Equal(t, "chat", m["actor"])
		assert.Equal(t, "r", m["actorId"])
		assert.Equal(t, "sendMessage", m["method"])
		assert.Equal(t, map[string]any{"text": "after reconnect"}, m["input"])
		s2.receive(`{"type":"rpc:result","id":"` + m["id"].(string) + `","result":{"ok":true}}`)
		r := <-done
		require.NoError(t, r.err)
		assert.JSONEq(t, `{"ok":true}`, string(r.raw))
	})
}

func TestCall_InFlightFailsWithCloseReasonOnDrop(t *testing.T) {
	for reason, want := range map[string]string{"server restart": "server restart", "": "WebSocket closed"} {
		synctest.Test(t, func(t *testing.T) {
			c, s, _ := openClient(t, client.Options{ReconnectDelay: zero})
			errc := make(chan error, 1)
			go func() {
				_, err := c.Actor("chat", "r").Call(context.Background(), "m", nil)
				errc <- err
			}()
			synctest.Wait()
			require.Len(t, s.frames(), 1, "rpc sent")
			s.drop(reason)
			err := <-errc
			assert.EqualError(t, err, want)
			assert.ErrorIs(t, err, client.ErrConnectionLost)
		})
	}
}

func TestReconnect_DoesNotReplayReleasedHandle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, s1, n := openClient(t, client.Options{ReconnectDelay: zero, DisposeDelay: time.Millisecond})
		h := c.Actor("chat", "x")
		off := h.On("message", func(json.RawMessage) {})
		s1.drop("")
		s2 := n.next(t)
		h.Release()
		off()
		time.Sleep(20 * time.Millisecond) // past DisposeDelay on the bubble's fake clock
		s2.open()
		synctest.Wait()
		assert.Empty(t, s2.frames())
	})
}

func TestCall_ResultsMatchedByID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, s, _ := openClient(t, client.Options{})
		h := c.Actor("chat", "r")
		results := make([]chan string, 2)
		for i := range results {
			results[i] = make(chan string, 1)
			go func() {
				r, err := h.Call(context.Background(), "sendMessage", map[string]any{"i": i})
				if err != nil {
					results[i] <- err.Error()
					return
				}
				results[i] <- string(r)
			}()
			synctest.Wait()
			require.Len(t, s.frames(), i+1, "sent")
		}
		ids := []string{frameMap(t, s.frames()[0])["id"].(string), frameMap(t, s.frames()[1])["id"].(string)}
		s.receive(`{"type":"rpc:result","id":"` + ids[1] + `","result":{"which":"second"}}`)
		s.receive(`{"type":"rpc:result","id":"` + ids[0] + `","result":{"which":"first"}}`)
		assert.JSONEq(t, `{"which":"first"}`, <-results[0])
		assert.JSONEq(t, `{"which":"second"}`, <-results[1])
	})
}

func TestCall_IgnoresUnknownAndLateResults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, s, _ := openClient(t, client.Options{RPCTimeout: 30 * time.Millisecond})
		s.receive(`{"type":"rpc:result","id":"rpc_unknown","result":1}`)
		h := c.Actor("chat", "r")
		_, err := h.Call(context.Background(), "sendMessage", nil)
		assert.EqualError(t, err, `RPC "sendMessage" timed out after 30ms`)
		assert.ErrorIs(t, err, client.ErrTimeout)
		late := frameMap(t, s.frames()[0])["id"].(string)
		s.receive(`{"type":"rpc:result","id":"` + late + `","result":"late"}`)
		done := make(chan json.RawMessage, 1)
		go func() {
			r, _ := h.Call(context.Background(), "sendMessage", nil)
			done <- r
		}()
		synctest.Wait()
		require.Len(t, s.frames(), 2, "second call sent")
		s.receive(`{"type":"rpc:result","id":"` + frameMap(t, s.frames()[1])["id"].(string) + `","result":[{"ok":true}]}`)
		assert.JSONEq(t, `[{"ok":true}]`, string(<-done))
	})
}

func TestClose_FailsPendingCallsAndUnsubscribes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newFakeNet()
		c := client.New("ws://fake", client.Options{Dial: n.dial})
		s := n.next(t)
		s.open()
		require.NoError(t, c.Ready(context.Background()))
		h := c.Actor("chat", "r")
		h.On("message", func(json.RawMessage) {})
		h.Subscribe(func(any) {})
		errc := make(chan error, 1)
		go func() {
			_, err := h.Call(context.Background(), "m", nil)
			errc <- err
		}()
		synctest.Wait()
		require.Len(t, s.frames(), 3, "rpc sent")
		require.NoError(t, c.Close())
		assert.EqualError(t, <-errc, "WebSocket client closed")
		assert.Equal(t, client.Disconnected, c.Status())
		_, err := h.Call(context.Background(), "m", nil)
		assert.EqualError(t, err, "WebSocket client is closed")
		assert.ErrorIs(t, err, client.ErrClosed)
		f := s.frames()
		assert.Equal(t, []string{`{"type":"event:unsub","actor":"chat","actorId":"r"}`, `{"type":"state:unsub","actor":"chat","actorId":"r"}`}, f[3:])
	})
}

func TestHandle_SubscribesLazily(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, s, _ := openClient(t, client.Options{})
		h := c.Actor("chat", "lazy")
		assert.Empty(t, s.frames(), "creating a handle sends nothing")
		offA := h.On("a", func(json.RawMessage) {})
		offB := h.On("b", func(json.RawMessage) {})
		assert.Equal(t, []string{`{"type":"event:sub","actor":"chat","actorId":"lazy"}`}, s.frames())
		offA()
		assert.Len(t, s.frames(), 1)
		offB()
		assert.Equal(t, `{"type":"event:unsub","actor":"chat","actorId":"lazy"}`, s.frames()[1])

		var got atomic.Int32
		u1 := h.Subscribe(func(any) { got.Add(1) })
		u2 := h.Subscribe(func(any) {})
		assert.Len(t, s.frames(), 3)
		assert.Equal(t, `{"type":"state:sub","actor":"chat","actorId":"lazy","version":0,"epoch":""}`, s.frames()[2])
		s.receive(`{"type":"state:snapshot","actor":"chat","actorId":"lazy","state":{"n":1}}`)
		synctest.Wait()
		require.Equal(t, int32(1), got.Load(), "snapshot delivered")
		u1()
		u2()
		assert.Equal(t, `{"type":"state:unsub","actor":"chat","actorId":"lazy"}`, s.frames()[3])
		st, ok := h.State()
		require.True(t, ok, "the last state is kept")
		assert.Equal(t, map[string]any{"n": json.Number("1")}, st)
		var stale any
		h.Subscribe(func(v any) { stale = v })
		assert.Equal(t, st, stale, "a new subscriber gets the stale state at once")
		assert.Equal(t, `{"type":"state:sub","actor":"chat","actorId":"lazy","version":0,"epoch":""}`, s.frames()[4])
	})
}

func TestReconnect_BacksOffExponentially(t *testing.T) {
	for attempt, base := range map[int]int{1: 250, 2: 500, 3: 1000, 4: 2000, 5: 2000, 9: 2000} {
		for range 50 {
			d := client.DefaultReconnectDelay(attempt)
			assert.GreaterOrEqual(t, d, time.Duration(base)*time.Millisecond)
			assert.Less(t, d, time.Duration(base+100)*time.Millisecond)
		}
	}
	// Attempts count up while failing and start again after an open.
	synctest.Test(t, func(t *testing.T) {
		n := newFakeNet()
		var mu sync.Mutex
		var attempts []int
		c := client.New("ws://fake", client.Options{Dial: n.dial, ReconnectDelay: func(a int) time.Duration {
			mu.Lock()
			attempts = append(attempts, a)
			mu.Unlock()
			return 0
		}})
		defer c.Close()
		n.next(t).fail("x")
		n.next(t).fail("x")
		s := n.next(t)
		s.open()
		require.NoError(t, c.Ready(context.Background()))
		s.drop("")
		n.next(t).fail("x")
		n.next(t)
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, []int{1, 2, 1, 2}, attempts)
	})
}

func TestStatus_FollowsConnectionLifecycle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newFakeNet()
		c := client.New("ws://fake", client.Options{Dial: n.dial, ReconnectDelay: zero})
		defer c.Close()
		var mu sync.Mutex
		var seen []client.Status
		c.OnStatus(func(s client.Status) { mu.Lock(); seen = append(seen, s); mu.Unlock() })
		assert.Equal(t, client.Connecting, c.Status())
		n.next(t).fail("before open")
		s := n.next(t)
		assert.Equal(t, client.Connecting, c.Status(), "a close before the first open keeps connecting")
		s.open()
		require.NoError(t, c.Ready(context.Background()))
		s.drop("")
		synctest.Wait()
		require.Equal(t, client.Reconnecting, c.Status(), "reconnecting")
		n.next(t).open()
		synctest.Wait()
		require.Equal(t, client.Connected, c.Status(), "connected again")
		c.Close()
		mu.Lock()
		assert.Equal(t, []client.Status{client.Connected, client.Reconnecting, client.Connected, client.Disconnected}, seen)
		mu.Unlock()

		// Reconnect off: a drop gives Disconnected; calls fail fast.
		n2 := newFakeNet()
		c2 := client.New("ws://fake", client.Options{Dial: n2.dial, NoReconnect: true})
		defer c2.Close()
		s2 := n2.next(t)
		s2.open()
		require.NoError(t, c2.Ready(context.Background()))
		s2.drop("")
		synctest.Wait()
		require.Equal(t, client.Disconnected, c2.Status(), "disconnected")
		start := time.Now()
		_, err := c2.Actor("a", "b").Call(context.Background(), "m", nil)
		assert.EqualError(t, err, "WebSocket is not connected")
		assert.True(t, errors.Is(err, client.ErrNotConnected))
		assert.Zero(t, time.Since(start), "failed at once, not after a timeout")
	})
}

func TestServerErrorsAreTyped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, s, _ := openClient(t, client.Options{})
		errc := make(chan error, 1)
		go func() {
			_, err := c.Actor("a", "b").Call(context.Background(), "m", nil)
			errc <- err
		}()
		synctest.Wait()
		require.Len(t, s.frames(), 1, "sent")
		s.receive(`{"type":"rpc:result","id":"` + frameMap(t, s.frames()[0])["id"].(string) + `","error":""}`)
		err := <-errc
		var se *client.ServerError
		require.ErrorAs(t, err, &se, "an empty error string is still an error")
		assert.ErrorIs(t, err, client.ErrServer)
	})
}

func TestPatchFailureResubscribes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, s, _ := openClient(t, client.Options{})
		h := c.Actor("p", "x")
		var mu sync.Mutex
		var states []string
		h.Subscribe(func(v any) { b, _ := json.Marshal(v); mu.Lock(); states = append(states, string(b)); mu.Unlock() })
		s.receive(`{"type":"state:snapshot","actor":"p","actorId":"x","state":{"a":[1]}}`)
		s.receive(`{"type":"state:patch","actor":"p","actorId":"x","patches":[{"op":"replace","path":"/missing/deep","value":1}]}`)
		synctest.Wait()
		require.Len(t, s.frames(), 2, "re-subscribed")
		assert.Equal(t, `{"type":"state:sub","actor":"p","actorId":"x","version":0,"epoch":""}`, s.frames()[1])
		s.receive(`{"type":"state:snapshot","actor":"p","actorId":"x","state":{"a":[1,2]}}`)
		synctest.Wait()
		mu.Lock()
		assert.Equal(t, []string{`{"a":[1]}`, `{"a":[1,2]}`}, states, "the bad patch changed nothing")
		mu.Unlock()
	})
}
