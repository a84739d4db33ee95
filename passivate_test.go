package zocket_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/storage/memstore"
	"github.com/zocket-go/zocket/zockettest"
)

func TestPassivation_IdleInstanceLeavesMemoryAndComesBackWithItsState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var activations, deactivations atomic.Int32
		st := memstore.New()
		app := zocket.NewApp(zocket.WithStorage(st)).Register("notes", notesActor().
			IdleTimeout(time.Minute).
			OnActivate(func(*zocket.Lifecycle[notes]) error { activations.Add(1); return nil }).
			OnDeactivate(func(l *zocket.Lifecycle[notes]) error {
				deactivations.Add(1)
				l.State.Items = append(l.State.Items, "bye")
				return nil
			}))
		defer closeApp(t, app)
		ctx := context.Background()
		_, err := addNote.Invoke(ctx, app, "notes", "n", "hello")
		require.NoError(t, err)
		advance(30 * time.Second)
		require.Equal(t, 1, app.Size(), "not idle long enough")
		advance(time.Minute)
		require.Equal(t, 0, app.Size(), "passivated")
		require.EqualValues(t, 1, deactivations.Load())

		require.Equal(t, []string{"hello", "bye"}, readState(t, app, "n").Items, "onDeactivate's changes were written")
		require.EqualValues(t, 2, activations.Load())
	})
}

func TestPassivation_NeverTakesAnInstanceWithSubscribersOrTimers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		later := zocket.MethodNoIO("later", func(c *nc) error { return nil })
		arm := zocket.MethodNoIO("arm", func(c *nc) error { later.After(c, time.Hour, zocket.None{}); return nil })
		app := zocket.NewApp(zocket.WithStorage(memstore.New())).
			Register("notes", notesActor().Methods(later, arm).IdleTimeout(time.Second))
		defer closeApp(t, app)
		srv := zockettest.NewServer(app, zockettest.Options{})
		c := srv.Connect(t, "c", zocket.Identity{})
		c.Write(`{"type":"state:sub","actor":"notes","actorId":"watched"}`)
		c.Next()
		_, err := app.Invoke(context.Background(), "notes", "timed", "arm", nil)
		require.NoError(t, err)
		advance(time.Minute)
		require.Equal(t, 2, app.Size())
		c.Write(`{"type":"state:unsub","actor":"notes","actorId":"watched"}`)
		advance(time.Minute)
		require.Equal(t, 1, app.Size(), "the unsubscribed one went, the one with a timer stays")
	})
}

func TestPassivation_EphemeralTypesOnlyWhenAsked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		app := zocket.NewApp().
			Register("kept", notesActor()).
			Register("dropped", notesActor().IdleTimeout(time.Second))
		defer closeApp(t, app)
		for _, actor := range []string{"kept", "dropped"} {
			_, err := addNote.Invoke(context.Background(), app, actor, "x", "a")
			require.NoError(t, err)
		}
		advance(time.Hour)
		require.Equal(t, []zocket.InstanceInfo{{Actor: "kept", ID: "x"}}, app.List())
	})
}

func TestPassivation_AMillionTouchedIDsLeaveNothingBehind(t *testing.T) {
	n := 100_000 // ZOCKET_MILLION=1 runs the full million (about 15 s)
	switch {
	case os.Getenv("ZOCKET_MILLION") != "":
		n = 1_000_000
	case testing.Short() || raceEnabled:
		n = 20_000
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	// The App alone: an ephemeral type (a Storage would hold the states)
	// and a connection that keeps no frames. Real time, not a synctest
	// bubble: a bubble keeps stopped timers, and what they refer to, for
	// longer than the runtime does.
	app := zocket.NewApp().Register("notes", notesActor().IdleTimeout(50*time.Millisecond))
	defer closeApp(t, app)
	h := zocket.NewHandler(app)
	c := discardConn{id: "c", sent: new(atomic.Int64)}
	h.OnConnection(c)
	_, err := addNote.Invoke(context.Background(), app, "notes", "warm-up", "x") // starts the idle clock
	require.NoError(t, err)
	for app.Size() > 0 {
		time.Sleep(10 * time.Millisecond)
	}
	goroutines, baseHeap := runtime.NumGoroutine(), heap()
	peak := uint64(0)
	for i := range n {
		h.OnMessage(c, fmt.Appendf(nil, `{"type":"rpc","id":%d,"actor":"notes","actorId":"%d","method":"add","input":"x"}`, i, i))
		if i%200 == 199 {
			for c.sent.Load() < int64(i+1) { // every result back: stay under the in-flight limit
				time.Sleep(time.Millisecond)
			}
		}
		if i == n/2 {
			peak = heap()
		}
	}
	for app.Size() > 0 {
		time.Sleep(10 * time.Millisecond)
	}
	require.Empty(t, app.Instances())
	// Polled here, not with assert.Eventually, whose own goroutine counts.
	for deadline := time.Now().Add(30 * time.Second); runtime.NumGoroutine() > goroutines && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	require.LessOrEqual(t, runtime.NumGoroutine(), goroutines)
	after := heap()
	t.Logf("%d ids: heap %d KiB before, %d KiB half-way, %d KiB after passivation", n, baseHeap>>10, peak>>10, after>>10)
	require.Less(t, after, baseHeap+baseHeap/10+2<<20, "heap back within 10%% of the baseline (plus 2 MiB)")
}

func TestMaxInstances_PassivatesTheLeastRecentlyUsedIdleInstance(t *testing.T) {
	st := memstore.New()
	app := zocket.NewApp(zocket.WithStorage(st), zocket.WithMaxInstances(2)).Register("notes", notesActor())
	defer closeApp(t, app)
	ctx := context.Background()
	for _, id := range []string{"old", "new"} {
		_, err := addNote.Invoke(ctx, app, "notes", id, id)
		require.NoError(t, err)
	}
	_, err := addNote.Invoke(ctx, app, "notes", "new", "again")
	require.NoError(t, err)
	_, err = addNote.Invoke(ctx, app, "notes", "third", "x")
	require.NoError(t, err)
	ids := []string{}
	for _, in := range app.List() {
		ids = append(ids, in.ID)
	}
	require.Equal(t, []string{"new", "third"}, ids)
	require.Equal(t, []string{"old"}, readState(t, app, "old").Items, "the passivated one comes back with its state")
}

func TestMaxInstances_RefusesWhenNoInstanceIsIdle(t *testing.T) {
	app := zocket.NewApp(zocket.WithMaxInstances(1)).Register("notes", notesActor())
	defer closeApp(t, app)
	srv := zockettest.NewServer(app, zockettest.Options{})
	c := srv.Connect(t, "c", zocket.Identity{})
	c.Write(`{"type":"state:sub","actor":"notes","actorId":"busy"}`)
	c.Next()
	res := c.Call("notes", "other", "add", "x")
	require.Equal(t, "Too many active actors", res["error"])
	_, err := addNote.Invoke(context.Background(), app, "notes", "other", "x")
	require.ErrorIs(t, err, zocket.ErrTooManyInstances)
}

// discardConn is a connection that counts the frames sent to it (welcome
// excluded) and drops them.
type discardConn struct {
	id   string
	sent *atomic.Int64
}

func (c discardConn) ID() string { return c.id }
func (c discardConn) Send(frame []byte) error {
	if !strings.Contains(string(frame), `"welcome"`) {
		c.sent.Add(1)
	}
	return nil
}
func (c discardConn) Identity() zocket.Identity { return zocket.Identity{} }
