package zocket_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

type logState struct {
	Log []string `json:"log"`
	N   int      `json:"n"`
}

type lc = zocket.Context[logState, zocket.NoData]

type word struct {
	W string `json:"w"`
}

var record = zocket.MethodNoResult("record", func(c *lc, in word) error {
	c.State.Log = append(c.State.Log, in.W+"@"+c.ClientID)
	return nil
})

var tick = zocket.MethodNoIO("tick", func(c *lc) error {
	c.State.N++
	return nil
})

// advance lets d pass on the fake clock of a synctest bubble, then waits
// until every goroutine of the bubble is blocked: the timers due by then
// have fired and their calls have run.
func advance(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

func logOf(t *testing.T, app *zocket.App, id string) logState {
	t.Helper()
	var s logState
	raw, err := app.Invoke(context.Background(), "log", id, "get", nil)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &s))
	return s
}

var get = zocket.MethodNoInput("get", func(c *lc) (logState, error) { return *c.State, nil })

func timerApp(t *testing.T, extra ...zocket.AnyMethod[logState, zocket.NoData]) *zocket.App {
	ms := append([]zocket.AnyMethod[logState, zocket.NoData]{record, tick, get}, extra...)
	app := zocket.NewApp().Register("log", zocket.NewActor[logState]().Methods(ms...))
	t.Cleanup(func() { app.Close(context.Background()) })
	return app
}

// Timer calls go through the mailbox in order with client calls, without
// a client id, and their changes reach subscribers.
func TestTimerFiresThroughMailboxInOrder(t *testing.T) {
	synctest.Test(t, timerFiresThroughMailboxInOrder)
}

func timerFiresThroughMailboxInOrder(t *testing.T) {
	var id zocket.TimerID
	schedule := zocket.MethodNoIO("schedule", func(c *lc) error {
		id = record.After(c, 30*time.Millisecond, word{W: "timer"})
		c.State.Log = append(c.State.Log, "scheduled")
		return nil
	})
	app := timerApp(t, schedule)
	h := zocket.NewHandler(app)
	sub := zocket.NewLocalConn("sub", zocket.Identity{})
	h.Attach(sub)
	h.OnMessage(sub, []byte(`{"type":"state:sub","actor":"log","actorId":"a"}`))
	_, err := app.Invoke(context.Background(), "log", "a", "schedule", nil)
	require.NoError(t, err)
	assert.NotZero(t, id)
	assert.Equal(t, 1, app.PendingTimers("log", "a"), "an instance with a timer is not idle")
	_, err = record.Invoke(context.Background(), app, "log", "a", word{W: "client"})
	require.NoError(t, err)
	advance(29 * time.Millisecond)
	assert.Len(t, logOf(t, app, "a").Log, 2, "not yet")
	advance(time.Millisecond)
	assert.Equal(t, []string{"scheduled", "client@", "timer@"}, logOf(t, app, "a").Log)
	assert.Equal(t, 0, app.PendingTimers("log", "a"))
	var patches int
	for _, f := range sub.Frames() {
		if strings.Contains(string(f), `"state:patch"`) {
			patches++
		}
	}
	assert.Equal(t, 3, patches, "the timer's change was broadcast")
}

func TestCancelTimerAndFailedCallSchedulesNothing(t *testing.T) {
	synctest.Test(t, cancelTimerAndFailedCallSchedulesNothing)
}

func cancelTimerAndFailedCallSchedulesNothing(t *testing.T) {
	var cancelled bool
	both := zocket.MethodNoIO("both", func(c *lc) error {
		a := record.After(c, 10*time.Millisecond, word{W: "kept"})
		b := record.After(c, 10*time.Millisecond, word{W: "cancelled"})
		cancelled = zocket.CancelTimer(c, b)
		_ = a
		return nil
	})
	later := zocket.MethodNoIO("later", func(c *lc) error {
		id := record.After(c, time.Hour, word{W: "never"})
		if !zocket.CancelTimer(c, id) {
			return errors.New("not cancelled")
		}
		return nil
	})
	failing := zocket.MethodNoIO("failing", func(c *lc) error {
		record.After(c, time.Millisecond, word{W: "from a failed call"})
		return errors.New("no")
	})
	app := timerApp(t, both, later, failing)
	ctx := context.Background()
	_, err := app.Invoke(ctx, "log", "c", "both", nil)
	require.NoError(t, err)
	assert.True(t, cancelled)
	_, err = app.Invoke(ctx, "log", "c", "later", nil)
	require.NoError(t, err)
	_, err = app.Invoke(ctx, "log", "c", "failing", nil)
	require.Error(t, err)
	advance(time.Second)
	assert.Equal(t, []string{"kept@"}, logOf(t, app, "c").Log)
	assert.Equal(t, 0, app.PendingTimers("log", "c"))
}

func TestEveryAndCronStopOnDestroy(t *testing.T) {
	synctest.Test(t, everyAndCronStopOnDestroy)
}

func everyAndCronStopOnDestroy(t *testing.T) {
	start := zocket.MethodNoIO("start", func(c *lc) error {
		tick.Every(c, 5*time.Millisecond, zocket.None{})
		return nil
	})
	app := zocket.NewApp().
		Register("log", zocket.NewActor[logState]().Methods(record, tick, get, start)).
		Register("cron", zocket.NewActor[logState]().Methods(tick, get).Every(5*time.Millisecond, tick))
	defer app.Close(context.Background())
	ctx := context.Background()
	_, err := app.Invoke(ctx, "log", "e", "start", nil)
	require.NoError(t, err)
	_, err = app.Invoke(ctx, "cron", "x", "get", nil) // activation starts the cron
	require.NoError(t, err)
	advance(17 * time.Millisecond)
	assert.Equal(t, 3, logOf(t, app, "e").N, "log ticks at 5, 10 and 15 ms")
	raw, err := app.Invoke(ctx, "cron", "x", "get", nil)
	require.NoError(t, err)
	assert.JSONEq(t, `{"log":[],"n":3}`, string(raw), "cron ticks at 5, 10 and 15 ms")
	require.NoError(t, app.DestroyAll(ctx))
	assert.Equal(t, 0, app.PendingTimers("log", "e"))
	advance(time.Second)
	assert.Equal(t, 0, app.Size(), "no timer brought an instance back")
}

func TestCronMustBeAnInputlessDeclaredMethod(t *testing.T) {
	err := zocket.NewApp().TryRegister("bad", zocket.NewActor[logState]().Methods(tick).Every(time.Second, record))
	assert.ErrorContains(t, err, `cron: method "record" is not declared`)
	err = zocket.NewApp().TryRegister("bad", zocket.NewActor[logState]().Methods(record).Every(time.Second, record))
	assert.ErrorContains(t, err, "takes input")
}

type count struct {
	N int `json:"n"`
}

// Actor-to-actor: a synchronous call, a detected cycle, parallel
// instances, and fire-and-forget (sent on commit, failures logged).
func TestActorToActorCalls(t *testing.T) {
	synctest.Test(t, actorToActorCalls)
}

func actorToActorCalls(t *testing.T) {
	var logs syncBuffer
	var inFlight, maxInFlight atomic.Int32
	var app *zocket.App
	double := zocket.Method("double", func(c *lc, in count) (int, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := maxInFlight.Load()
			if n <= m || maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond) // fake clock: the test runs in a synctest bubble
		return in.N * 2, nil
	})
	var ping *zocket.MethodDef[logState, zocket.NoData, count, int]
	ping = zocket.Method("ping", func(c *lc, in count) (int, error) {
		if in.N == 0 {
			return 0, nil
		}
		// a → b → a: the inner call must fail fast, not hang.
		other := map[string]string{"a": "b", "b": "a"}[c.ActorID]
		return ping.Invoke(c.Context(), c.App(), "log", other, count{N: in.N - 1})
	})
	callDouble := zocket.Method("callDouble", func(c *lc, in count) (int, error) {
		return double.Invoke(c.Context(), c.App(), "log", "d-"+c.ActorID, in)
	})
	fail := zocket.MethodNoIO("fail", func(c *lc) error { return errors.New("tool broke") })
	tellThenFail := zocket.MethodNoIO("tellThenFail", func(c *lc) error {
		record.Tell(c, "log", "sink", word{W: "lost"})
		return errors.New("caller failed")
	})
	tell := zocket.MethodNoIO("tell", func(c *lc) error {
		record.Tell(c, "log", "sink", word{W: "told"})
		fail.Tell(c, "log", "sink", zocket.None{})
		return nil
	})
	app = zocket.NewApp(zocket.WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))).Register("log",
		zocket.NewActor[logState]().Methods(record, get, double, ping, callDouble, fail, tellThenFail, tell))
	defer app.Close(context.Background())
	ctx := context.Background()

	n, err := callDouble.Invoke(ctx, app, "log", "x", count{N: 21})
	require.NoError(t, err)
	assert.Equal(t, 42, n)

	start := time.Now()
	_, err = ping.Invoke(ctx, app, "log", "a", count{N: 3})
	assert.ErrorIs(t, err, zocket.ErrCycle)
	assert.Contains(t, err.Error(), "Call cycle: log/a → log/b → log/a")
	assert.Zero(t, time.Since(start), "detected, not timed out")

	var wg sync.WaitGroup
	for _, id := range []string{"p1", "p2", "p3"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := callDouble.Invoke(ctx, app, "log", id, count{N: 1})
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(3), maxInFlight.Load(), "calls to different instances ran in parallel")

	_, err = app.Invoke(ctx, "log", "t", "tellThenFail", nil)
	require.Error(t, err)
	_, err = app.Invoke(ctx, "log", "t", "tell", nil)
	require.NoError(t, err)
	synctest.Wait() // the tells have run
	assert.Equal(t, []string{"told@"}, logOf(t, app, "sink").Log, "a failed caller's tell is never sent")
	assert.Contains(t, logs.String(), "internal call failed")
	assert.Contains(t, logs.String(), "method=fail")
}

type draftState struct {
	Text string `json:"text"`
	Done bool   `json:"done"`
}

type dc = zocket.Context[draftState, zocket.NoData]

var generate = zocket.Method("generate", func(c *dc, in count) (string, error) {
	for i := range in.N {
		c.State.Text += "t" + string(rune('a'+i%26))
		c.Flush()
		if err := c.SendChunk(c.State.Text[len(c.State.Text)-2:]); err != nil {
			return "", err
		}
		time.Sleep(2 * time.Millisecond) // a token's pace; called only in synctest bubbles
	}
	c.State.Done = true
	return c.State.Text, nil
}).Streaming(5 * time.Millisecond)

func streamApp() *zocket.App {
	return zocket.NewApp().Register("gen", zocket.NewActor[draftState]().Methods(generate))
}

// A streaming method: subscribers see intermediate states and a final
// patch; chunks precede the result; the caller may vanish mid-run.
func TestStreamingMethodAndChunks(t *testing.T) {
	synctest.Test(t, streamingMethodAndChunks)
}

func streamingMethodAndChunks(t *testing.T) {
	app := streamApp()
	defer app.Close(context.Background())
	h := zocket.NewHandler(app)
	sub := zocket.NewLocalConn("sub", zocket.Identity{})
	caller := zocket.NewLocalConn("caller", zocket.Identity{})
	h.Attach(sub)
	h.Attach(caller)
	h.OnMessage(sub, []byte(`{"type":"state:sub","actor":"gen","actorId":"g"}`))
	h.OnMessage(caller, []byte(`{"type":"rpc","id":"s1","actor":"gen","actorId":"g","method":"generate","input":{"n":20}}`))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var chunks []string
	for {
		f, err := caller.Next(ctx)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(f, &m))
		if m["type"] == "rpc:stream" {
			chunks = append(chunks, m["chunk"].(string))
			continue
		}
		assert.Equal(t, "rpc:result", m["type"])
		assert.Len(t, m["result"], 40)
		break
	}
	assert.Len(t, chunks, 20)
	assert.Equal(t, "ta", chunks[0])
	var patches []string
	for _, f := range sub.Frames()[1:] {
		patches = append(patches, string(f))
	}
	// Tokens every 2 ms, flushes at most every 5 ms: at 0, 6, 12, ... 36 ms,
	// then the final commit.
	assert.Len(t, patches, 8, "intermediate states were published, flushes coalesced")
	assert.Contains(t, patches[len(patches)-1], `"path":"/done"`, "the final patch ends the stream")

	// The caller closes mid-run: the method completes, chunks are dropped.
	gone := zocket.NewLocalConn("gone", zocket.Identity{})
	h.Attach(gone)
	h.OnMessage(gone, []byte(`{"type":"rpc","id":"s2","actor":"gen","actorId":"g2","method":"generate","input":{"n":10}}`))
	gone.Close()
	h.OnClose(gone)
	raw, err := app.Invoke(context.Background(), "gen", "g2", "generate", json.RawMessage(`{"n":0}`))
	require.NoError(t, err, "runs after the abandoned call")
	assert.Len(t, raw, 22, "the abandoned call completed: 20 characters, quoted")

	// Server-side callers receive chunks with WithChunks.
	var got []string
	out, err := generate.Invoke(zocket.WithChunks(context.Background(), func(c json.RawMessage) { got = append(got, string(c)) }),
		app, "gen", "g3", count{N: 3})
	require.NoError(t, err)
	assert.Equal(t, "tatbtc", out)
	assert.Equal(t, []string{`"ta"`, `"tb"`, `"tc"`}, got)
}
