package zocket_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/internal/testsupport/patchtest"
	"github.com/zocket-go/zocket/protocol"
)

type item struct {
	ID int    `json:"id"`
	V  string `json:"v"`
}

type bigState struct {
	Items []item         `json:"items"`
	Tags  map[string]int `json:"tags"`
	N     int            `json:"n"`
}

type op struct {
	Kind int `json:"kind"`
	A    int `json:"a"`
}

// mutateBig applies one of several mutations chosen by the input.
var mutateBig = zocket.MethodNoResult("mutate", func(c *zocket.Context[bigState, zocket.NoData], in op) error {
	s := c.State
	switch in.Kind % 6 {
	case 0:
		s.Items = append(s.Items, item{ID: in.A, V: strconv.Itoa(in.A)})
	case 1:
		if len(s.Items) > 0 {
			i := in.A % len(s.Items)
			s.Items = append(s.Items[:i], s.Items[i+1:]...)
		}
	case 2:
		if len(s.Items) > 0 {
			s.Items[in.A%len(s.Items)].V = "t" + strconv.Itoa(in.A)
		}
	case 3:
		if s.Tags == nil {
			s.Tags = map[string]int{}
		}
		s.Tags["k/"+strconv.Itoa(in.A%5)] = in.A
	case 4:
		delete(s.Tags, "k/"+strconv.Itoa(in.A%5))
	case 5:
		s.N = in.A
	}
	return nil
})

var seedBig = zocket.MethodNoResult("seed", func(c *zocket.Context[bigState, zocket.NoData], n int) error {
	c.State.Items = make([]item, n)
	for i := range c.State.Items {
		c.State.Items[i] = item{ID: i, V: "x" + strconv.Itoa(i)}
	}
	return nil
})

var touchBig = zocket.MethodNoResult("touch", func(c *zocket.Context[bigState, zocket.NoData], i int) error {
	c.State.Items[i].V = "touched"
	return nil
})

func bigApp(opts ...zocket.Option) *zocket.App {
	return zocket.NewApp(opts...).Register("big", zocket.NewActor[bigState]().Methods(mutateBig, seedBig, touchBig))
}

// replica is a subscriber that rebuilds the state from its frames.
type replica struct {
	conn  *zocket.LocalConn
	state any
}

func (r *replica) drain(t *testing.T) {
	t.Helper()
	for _, f := range r.conn.Frames() {
		m, err := protocol.Parse(f)
		require.NoError(t, err)
		switch m.Type {
		case protocol.TypeStateSnapshot:
			r.state, err = patchtest.Decode(m.State)
			require.NoError(t, err)
		case protocol.TypeStatePatch:
			require.NotNil(t, r.state, "patch before snapshot")
			r.state, err = patchtest.Apply(r.state, m.Patches, patchtest.TS)
			require.NoError(t, err)
		}
	}
}

// Invariant 4: subscribers that join while commits land, from other
// goroutines, end with exactly the server's state (no missed or doubled
// patch): subscribe and snapshot are atomic with respect to commits.
func TestSubscribersJoiningDuringCommitsConverge(t *testing.T) {
	app := bigApp()
	h := zocket.NewHandler(app)
	ctx := context.Background()
	var wg sync.WaitGroup
	replicas := make([]*replica, 20)
	wg.Add(1)
	go func() {
		defer wg.Done()
		r := rand.New(rand.NewPCG(3, 4))
		for range 400 {
			in, _ := json.Marshal(op{Kind: r.IntN(6), A: r.IntN(50)})
			_, err := app.Invoke(ctx, "big", "x", "mutate", in)
			assert.NoError(t, err)
		}
	}()
	for i := range replicas {
		c := zocket.NewLocalConn(fmt.Sprint("sub-", i), zocket.Identity{})
		replicas[i] = &replica{conn: c}
		h.Attach(c)
		h.OnMessage(c, []byte(`{"type":"state:sub","actor":"big","actorId":"x"}`))
	}
	wg.Wait()
	// A final call orders after every earlier commit.
	_, err := app.Invoke(ctx, "big", "x", "mutate", json.RawMessage(`{"kind":5,"a":999}`))
	require.NoError(t, err)
	probe := zocket.NewLocalConn("probe", zocket.Identity{})
	h.Attach(probe)
	h.OnMessage(probe, []byte(`{"type":"state:sub","actor":"big","actorId":"x"}`))
	want := &replica{conn: probe}
	want.drain(t)
	for _, r := range replicas {
		r.drain(t)
		assert.Equal(t, want.state, r.state, r.conn.ID())
	}
}

// discard is a Connection that drops frames, for allocation counts.
type discard struct{ id string }

func (d discard) ID() string                { return d.id }
func (d discard) Send([]byte) error         { return nil }
func (d discard) Identity() zocket.Identity { return zocket.Identity{} }

func allocsPerTouch(t *testing.T, n int, subscribed bool) float64 {
	app := bigApp()
	ctx := context.Background()
	_, err := seedBig.Invoke(ctx, app, "big", "x", n)
	require.NoError(t, err)
	if subscribed {
		h := zocket.NewHandler(app)
		c := discard{"s"}
		h.Attach(c)
		h.OnMessage(c, []byte(`{"type":"state:sub","actor":"big","actorId":"x"}`))
	}
	return testing.AllocsPerRun(50, func() {
		_, _ = touchBig.Invoke(ctx, app, "big", "x", n/2)
	})
}

// Invariant 5: allocations per call do not grow with the state, with or
// without subscribers (copying a slice of values is one allocation; the diff
// allocates only for what changed).
func TestAllocationsDoNotGrowWithState(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts are slow to measure")
	}
	for _, subscribed := range []bool{false, true} {
		small, large := allocsPerTouch(t, 1000, subscribed), allocsPerTouch(t, 50000, subscribed)
		assert.LessOrEqual(t, large, small, "subscribed=%v: %v allocs at 1,000 items, %v at 50,000", subscribed, small, large)
	}
}

// flushConn is a LocalConn that is also a zocket.Flusher, like a socket
// transport's connection.
type flushConn struct {
	*zocket.LocalConn
	flushes atomic.Int32
}

func (c *flushConn) Queue(frame []byte) error { return c.Send(frame) }
func (c *flushConn) Flush(bool)               { c.flushes.Add(1) }

// A call run on a transport's goroutine (Dispatch) whose caller closed
// before the answer, with or without other subscribers: nothing breaks
// (no internal error is logged), the instance keeps working, and a
// subscriber still gets its patch.
func TestLentCallWithClosedCallerKeepsInstanceWorking(t *testing.T) {
	for _, withSub := range []bool{false, true} {
		t.Run(fmt.Sprintf("subscriber=%v", withSub), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { lentCallWithClosedCaller(t, withSub) })
		})
	}
}

func lentCallWithClosedCaller(t *testing.T, withSub bool) {
	var logs syncBuffer
	app := zocket.NewApp(zocket.WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))).
		Register("big", zocket.NewActor[bigState]().Methods(mutateBig, seedBig, touchBig))
	defer app.Close(context.Background())
	h := zocket.NewHandler(app)
	ctx := context.Background()
	_, err := seedBig.Invoke(ctx, app, "big", "x", 3) // activate
	require.NoError(t, err)
	sub := &flushConn{LocalConn: zocket.NewLocalConn("sub", zocket.Identity{})}
	if withSub {
		h.Attach(sub)
		h.OnMessage(sub, []byte(`{"type":"state:sub","actor":"big","actorId":"x"}`))
	}
	caller := &flushConn{LocalConn: zocket.NewLocalConn("caller", zocket.Identity{})}
	h.Attach(caller)
	synctest.Wait() // the seed call's mailbox goroutine has let go
	run := h.Dispatch(caller, []byte(`{"type":"rpc","id":1,"actor":"big","actorId":"x","method":"touch","input":1}`))
	require.NotNil(t, run, "an idle instance lends the call")
	caller.Close()
	run()
	_, err = touchBig.Invoke(ctx, app, "big", "x", 2)
	require.NoError(t, err, "the instance is not wedged")
	assert.NotContains(t, logs.String(), "internal error")
	if withSub {
		frames := sub.Frames()
		assert.Contains(t, string(frames[len(frames)-1]), `"state:patch"`)
		assert.Positive(t, sub.flushes.Load(), "the subscriber was flushed")
	}
}
