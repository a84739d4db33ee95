package zocket_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

// trap is an input or result whose JSON hooks panic on demand.
type trap struct {
	Mode string `json:"mode"`
}

func (t *trap) UnmarshalJSON(b []byte) error {
	var s struct{ Mode string }
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s.Mode == "panic-decode" {
		panic("decoder panicked")
	}
	t.Mode = s.Mode
	return nil
}

func (t trap) MarshalJSON() ([]byte, error) {
	if t.Mode == "panic-encode" {
		panic("encoder panicked")
	}
	return json.Marshal(map[string]string{"mode": t.Mode})
}

// brokenErr panics in Error when it is a nil pointer.
type brokenErr struct{ msg string }

func (e *brokenErr) Error() string { return e.msg }

type trapState struct {
	N int `json:"n"`
}

type trapCtx struct{ Mode string }

var trapEvent = zocket.Event[trap]("trapped")

func trapApp() *zocket.App {
	chain := zocket.Use(func(_ context.Context, r zocket.Request[zocket.NoData]) (trapCtx, error) {
		switch r.ActorID {
		case "mw-panic":
			panic("middleware panicked")
		case "mw-error":
			return trapCtx{}, errors.New("Forbidden")
		}
		return trapCtx{}, nil
	})
	handle := func(c *zocket.Context[trapState, trapCtx], in trap) (trap, error) {
		c.State.N++
		switch in.Mode {
		case "panic":
			panic("handler panicked")
		case "error":
			return in, errors.New("failed")
		case "empty-error":
			return in, errors.New("")
		case "nil-error":
			var e *brokenErr
			return in, e
		case "nil-state":
			c.State = nil
		case "replace-state":
			c.State = &trapState{N: 42}
		case "panic-event":
			trapEvent.Broadcast(c, trap{Mode: "panic-encode"})
		}
		return in, nil
	}
	return zocket.NewApp().Register("t", zocket.NewActorWith[trapState](chain).
		Methods(zocket.Method("do", handle).Guard(func(_ context.Context, r zocket.Request[trapCtx]) error {
			if r.ActorID == "guard-panic" {
				panic("guard panicked")
			}
			return nil
		}), zocket.MethodNoIO("noop", func(*zocket.Context[trapState, trapCtx]) error { return nil })).
		Events(trapEvent))
}

// countingConn is a LocalConn that counts RPCDone per id.
type countingConn struct {
	*zocket.LocalConn
	mu   sync.Mutex
	done map[string]int
}

func (c *countingConn) RPCDone(id json.RawMessage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done[string(id)]++
}

// Every rpc that carries an id is answered by exactly one rpc:result, with
// the same id, and reported once to an RPCObserver, whatever goes wrong:
// unknown actors or methods, malformed frames or inputs, panics in decoding,
// middleware, guards, the handler or the encoding of its result or events,
// errors whose Error method panics, an App closed halfway through.
func TestRPC_EveryCallGetsExactlyOneResult(t *testing.T) {
	actorIDs := []string{"a", "b", "mw-panic", "mw-error", "guard-panic"}
	actors := []string{`"t"`, `"t"`, `"t"`, `"nope"`, `5`}
	methods := []string{`"do"`, `"do"`, `"do"`, `"noop"`, `"missing"`, `null`}
	modes := []string{"ok", "panic", "error", "empty-error", "nil-error", "nil-state", "replace-state",
		"panic-event", "panic-decode", "panic-encode"}
	inputs := func(r *rand.Rand) string {
		switch r.IntN(8) {
		case 0:
			return ``
		case 1:
			return `,"input":null`
		case 2:
			return `,"input":{"mode":5}`
		case 3:
			return `,"input":"text"`
		}
		return `,"input":{"mode":"` + modes[r.IntN(len(modes))] + `"}`
	}
	const calls = 60
	for seed := range uint64(20) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 1))
			app := trapApp()
			h := zocket.NewHandler(app)
			conn := &countingConn{LocalConn: zocket.NewLocalConn("c1", zocket.Identity{}), done: map[string]int{}}
			h.OnConnection(conn)
			closeAt := -1 // the App stays open
			if seed%4 == 3 {
				closeAt = r.IntN(calls)
			}
			h.OnMessage(conn, []byte(`{"type":"event:sub","actor":"t","actorId":"a"}`))
			for id := range calls {
				if id == closeAt {
					require.NoError(t, app.Close(context.Background()))
				}
				frame := fmt.Sprintf(`{"type":"rpc","id":%d,"actor":%s,"actorId":%q,"method":%s%s}`, id,
					actors[r.IntN(len(actors))], actorIDs[r.IntN(len(actorIDs))], methods[r.IntN(len(methods))],
					inputs(r))
				if run := h.Dispatch(conn, []byte(frame)); run != nil {
					run()
				}
			}
			// Each instance's mailbox runs in order: once a call made after
			// all the others returns, every earlier one has been answered.
			for _, id := range actorIDs {
				_, err := app.Invoke(context.Background(), "t", id, "noop", nil)
				_ = err // the middleware may refuse it: the mailbox still ran it
			}
			results := map[float64]int{}
			for _, f := range conn.Frames() {
				var m map[string]any
				require.NoError(t, json.Unmarshal(f, &m), string(f))
				if m["type"] == "rpc:result" {
					results[m["id"].(float64)]++
				}
			}
			for id := range calls {
				assert.Equal(t, 1, results[float64(id)], "rpc %d answered %d times", id, results[float64(id)])
				conn.mu.Lock()
				assert.Equal(t, 1, conn.done[fmt.Sprint(id)], "RPCDone for rpc %d", id)
				conn.mu.Unlock()
			}
			assert.Len(t, results, calls)
		})
	}
}
