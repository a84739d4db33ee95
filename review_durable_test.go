package zocket_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
	"weak"

	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/storage/memstore"
)

func TestGated_AFailedFirstWriteTakesAFreshInstanceBackToItsInitialState(t *testing.T) {
	st := &failingStore{Storage: memstore.New()}
	app := notesApp(st)
	defer closeApp(t, app)
	ctx := context.Background()
	st.set("fresh", errors.New("no space left on device"))
	_, err := addNote.Invoke(ctx, app, "notes", "fresh", "lost")
	require.ErrorIs(t, err, zocket.ErrStorage)

	st.set("fresh", nil)
	_, err = addNote.Invoke(ctx, app, "notes", "fresh", "kept")
	require.NoError(t, err, "the next write follows what is stored: nothing")
	require.Equal(t, notes{Items: []string{"kept"}, N: 1}, readState(t, app, "fresh"), "the lost change is gone")
	require.EqualValues(t, 1, app.Instances()[0].Version)
}

// holdEnd blocks CallEnd of the method named in method until hold closes.
type holdEnd struct {
	zocket.NopObserver
	method string
	hold   chan struct{}
}

func (h *holdEnd) CallEnd(_ context.Context, c zocket.CallInfo, _ zocket.CallEnd) {
	if c.Method == h.method {
		<-h.hold
	}
}

func TestGated_AlarmsSetWhileAWriteFailsDoNotKeepTheInstanceFromLeaving(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs := &failingStore{Storage: memstore.New()}
		gs := &gateStore{Storage: fs, started: make(chan struct{}, 100), release: make(chan struct{}, 100)}
		proceed, armed := make(chan struct{}), make(chan struct{})
		ping := zocket.MethodNoIO("ping", func(*nc) error { return nil })
		arm := zocket.MethodNoIO("arm", func(c *nc) error {
			armed <- struct{}{}
			<-proceed
			ping.At(c, time.Now().Add(time.Hour), zocket.None{})
			return nil
		})
		obs := &holdEnd{method: "arm", hold: make(chan struct{})}
		app := zocket.NewApp(zocket.WithStorage(gs), zocket.WithObserver(obs)).
			Register("notes", notesActor().Methods(ping, arm))
		ctx := context.Background()
		gs.release <- struct{}{}
		_, err := addNote.Invoke(ctx, app, "notes", "n", "kept")
		require.NoError(t, err)
		<-gs.started

		fs.set("n", errors.New("no space left on device"))
		lost := make(chan error, 1)
		go func() { _, err := addNote.Invoke(ctx, app, "notes", "n", "lost"); lost <- err }()
		<-gs.started // the write of "lost" is under way
		armErr := make(chan error, 1)
		go func() { _, err := app.Invoke(ctx, "notes", "n", "arm", nil); armErr <- err }()
		<-armed // arm runs while the write fails
		gs.release <- struct{}{}
		require.ErrorIs(t, <-lost, zocket.ErrStorage)
		close(proceed) // arm commits its alarm while the instance is broken
		synctest.Wait()
		close(obs.hold)
		require.ErrorIs(t, <-armErr, zocket.ErrStorage)
		fs.set("n", nil)

		wait, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		require.NoError(t, app.Destroy(wait, "notes", "n"), "the instance's last flush completes")
		require.Equal(t, notes{Items: []string{"kept"}, N: 1}, readState(t, app, "n"))
		close(gs.release)
		closeApp(t, app)
	})
}

// ringer is a notes actor whose "arm" sets an alarm calling "ring" (which
// counts in N) after the given number of seconds.
func ringer() (*zocket.Actor[notes, zocket.NoData], *zocket.MethodDef[notes, zocket.NoData, zocket.None, zocket.None]) {
	ring := zocket.MethodNoIO("ring", func(c *nc) error { c.State.N++; return nil })
	arm := zocket.Method("arm", func(c *nc, secs int) (zocket.None, error) {
		ring.At(c, time.Now().Add(time.Duration(secs)*time.Second), zocket.None{})
		return zocket.None{}, nil
	})
	return notesActor().Methods(ring, arm), ring
}

func TestAlarm_WakesAPassivatedInstanceOnceAndIsThenRemoved(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := memstore.New()
		def, _ := ringer()
		app := zocket.NewApp(zocket.WithStorage(st)).Register("notes", def.IdleTimeout(10*time.Second))
		defer closeApp(t, app)
		ctx := context.Background()
		_, err := app.Invoke(ctx, "notes", "n", "arm", []byte("60"))
		require.NoError(t, err)
		advance(30 * time.Second)
		require.Zero(t, app.Size(), "passivated with its alarm stored")
		advance(time.Minute)
		require.Equal(t, 1, readState(t, app, "n").N, "the alarm woke it and ran")
		advance(time.Hour)
		require.Equal(t, 1, readState(t, app, "n").N, "once")
		stored, err := st.Load(ctx, "notes", "n")
		require.NoError(t, err)
		require.Empty(t, stored.Alarms)
	})
}

// slowAlarms is a Storage whose Alarms reads the stored alarms at once but
// returns them only when release closes, as a slow store would.
type slowAlarms struct {
	zocket.Storage
	release chan struct{}
}

func (s *slowAlarms) Alarms(ctx context.Context) ([]zocket.InstanceAlarms, error) {
	list, err := s.Storage.Alarms(ctx)
	<-s.release
	return list, err
}

// storedRinging returns a store holding notes/n at version 1 with an
// alarm calling "ring" at at.
func storedRinging(t *testing.T, at time.Time) *memstore.Store {
	mem := memstore.New()
	require.Nil(t, mem.Write(context.Background(), []zocket.Write{{Actor: "notes", ID: "n",
		Snapshot:  &zocket.Snapshot{Version: 1, State: []byte(`{"items":[],"n":0}`)},
		SetAlarms: true, Alarms: []zocket.Alarm{{ID: 1, At: at, Method: "ring"}}}}))
	return mem
}

func TestAlarm_SetWhileTheStoredAlarmsLoadIsNotForgotten(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		mem := storedRinging(t, time.Now().Add(24*time.Hour))
		st := &slowAlarms{Storage: mem, release: make(chan struct{})}
		def, _ := ringer()
		app := zocket.NewApp(zocket.WithStorage(st)).Register("notes", def)
		defer closeApp(t, app)
		_, err := app.Invoke(ctx, "notes", "n", "arm", []byte("60"))
		require.NoError(t, err)
		close(st.release) // the list read before the new alarm arrives
		advance(2 * time.Minute)
		require.Equal(t, 1, readState(t, app, "n").N, "the new alarm rang")
	})
}

func TestDurable_AnInstanceGivenUpForItsStoredStateIsNotKeptByItsCallers(t *testing.T) {
	synctest.Test(t, testGivenUpInstanceIsNotKept)
}

func testGivenUpInstanceIsNotKept(t *testing.T) {
	st := memstore.New()
	ctx := context.Background()
	require.Nil(t, st.Write(ctx, []zocket.Write{{Actor: "notes", ID: "bad",
		Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(`{"items":"not a list","n":1}`)}}}))
	var last weak.Pointer[[1]string] // the memory of the latest instance's state
	app := zocket.NewApp(zocket.WithStorage(st), zocket.WithSlowCallWarning(0)).
		Register("notes", notesActor().Initial(func() notes {
			mem := new([1]string)
			last = weak.Make(mem)
			return notes{Items: mem[:]}
		}))
	defer closeApp(t, app)
	h := zocket.NewHandler(app)
	c := zocket.NewLocalConn("c", zocket.Identity{})
	h.OnConnection(c)
	_, _ = c.Next(ctx) // welcome
	h.OnMessage(c, []byte(`{"type":"rpc","id":1,"actor":"notes","actorId":"bad","method":"add","input":"x"}`))
	res, err := c.Next(ctx)
	require.NoError(t, err)
	require.Contains(t, string(res), "Cannot load the state of notes/bad")
	require.Zero(t, app.Size())

	synctest.Wait() // its mailbox goroutine is gone
	runtime.GC()
	require.Nil(t, last.Value(), "the open connection does not keep the instance in memory")
	h.OnClose(c)
}

func TestPassivation_CallsRunOnTheTransportsGoroutineKeepAnInstanceInUse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		app := zocket.NewApp(zocket.WithStorage(memstore.New())).
			Register("notes", notesActor().IdleTimeout(30*time.Second))
		defer closeApp(t, app)
		h := zocket.NewHandler(app)
		c := zocket.NewLocalConn("c", zocket.Identity{})
		h.OnConnection(c)
		h.OnMessage(c, []byte(`{"type":"rpc","id":0,"actor":"notes","actorId":"n","method":"read"}`))
		synctest.Wait()
		for i := range 12 {
			advance(10 * time.Second)
			require.Equal(t, 1, app.Size(), "in use every 10 s: never idle for 30 s (after %d calls)", i)
			run := h.Dispatch(c, fmt.Appendf(nil, `{"type":"rpc","id":%d,"actor":"notes","actorId":"n","method":"add","input":"x"}`, i+1))
			require.NotNil(t, run, "the idle instance lends the call the transport's goroutine")
			run()
		}
		h.OnClose(c)
	})
}

func TestMaxInstances_AConnectionCanCallPastTheInstanceItCalledBefore(t *testing.T) {
	app := zocket.NewApp(zocket.WithStorage(memstore.New()), zocket.WithMaxInstances(1)).Register("notes", notesActor())
	defer closeApp(t, app)
	h := zocket.NewHandler(app)
	c := zocket.NewLocalConn("c", zocket.Identity{})
	h.OnConnection(c)
	ctx := context.Background()
	_, _ = c.Next(ctx) // welcome
	for i, id := range []string{"first", "second"} {
		sent := make(chan struct{})
		go func() {
			defer close(sent)
			// The second call evicts the first instance, which this
			// connection's session knows.
			h.OnMessage(c, fmt.Appendf(nil, `{"type":"rpc","id":%d,"actor":"notes","actorId":%q,"method":"add","input":"x"}`, i, id))
		}()
		select {
		case <-sent:
		case <-time.After(10 * time.Second):
			t.Fatalf("OnMessage for %s never returned", id) // deadlocked: the test cannot end cleanly
		}
		res, err := c.Next(ctx)
		require.NoError(t, err)
		require.JSONEq(t, fmt.Sprintf(`{"type":"rpc:result","id":%d,"result":1}`, i), string(res))
	}
	require.Equal(t, []zocket.InstanceInfo{{Actor: "notes", ID: "second"}}, app.List())
	h.OnClose(c)
}

func TestMaxInstances_EvictsTheLeastRecentlyUsedWithinAnIdleClockTick(t *testing.T) {
	const limit = 15 // one eviction makes room
	app := zocket.NewApp(zocket.WithStorage(memstore.New()), zocket.WithMaxInstances(limit)).Register("notes", notesActor())
	defer closeApp(t, app)
	ctx := context.Background()
	for round := range 2 {
		for i := range limit {
			if round == 1 && i == 7 {
				continue // 7 is the least recently used
			}
			_, err := addNote.Invoke(ctx, app, "notes", fmt.Sprint(i), "x")
			require.NoError(t, err)
		}
	}
	_, err := addNote.Invoke(ctx, app, "notes", "new", "x")
	require.NoError(t, err)
	for _, in := range app.List() {
		require.NotEqual(t, "7", in.ID, "the least recently used instance makes room")
	}
	require.Equal(t, limit, app.Size())
}

// staleLoad is a Storage whose next Load after stall reads what is
// stored at once but returns it only when release closes, as a slow store
// would.
type staleLoad struct {
	zocket.Storage
	mu      sync.Mutex
	stalled bool
	release chan struct{}
}

func (s *staleLoad) stall() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stalled = true
}

func (s *staleLoad) Load(ctx context.Context, actor, id string) (zocket.Stored, error) {
	st, err := s.Storage.Load(ctx, actor, id)
	s.mu.Lock()
	stalled := s.stalled
	s.stalled = false
	s.mu.Unlock()
	if stalled {
		<-s.release
	}
	return st, err
}

func TestAlarm_ADepartedInstanceReloadingAfterAFailedLastWriteDoesNotHideItsSuccessorsAlarms(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs := &failingStore{Storage: memstore.New()}
		st := &staleLoad{Storage: fs, release: make(chan struct{})}
		def, _ := ringer()
		app := zocket.NewApp(zocket.WithStorage(st)).Register("notes", def.IdleTimeout(time.Hour).
			OnDeactivate(func(l *zocket.Lifecycle[notes]) error { l.State.Items = append(l.State.Items, "bye"); return nil }))
		defer closeApp(t, app)
		ctx := context.Background()
		_, err := addNote.Invoke(ctx, app, "notes", "n", "kept")
		require.NoError(t, err)
		fs.set("n", errors.New("no space left on device"))
		st.stall()
		require.NoError(t, app.Destroy(ctx, "notes", "n")) // onDeactivate's write fails
		synctest.Wait()                                    // a reload of the departed instance would stall
		fs.set("n", nil)
		armed := make(chan error, 1)
		go func() { _, err := app.Invoke(ctx, "notes", "n", "arm", []byte("60")); armed <- err }()
		synctest.Wait() // a new instance sets an alarm (or its load stalls)
		close(st.release)
		require.NoError(t, <-armed)
		advance(2 * time.Minute)
		require.Equal(t, 2, readState(t, app, "n").N, "the new instance's alarm rang (after add)")
	})
}

// stallConn records the frames sent to it; sending the rpc answer with id
// stallID waits until resume closes.
type stallConn struct {
	mu      sync.Mutex
	frames  []string
	stallID string
	resume  chan struct{}
}

func (c *stallConn) ID() string                { return "stall" }
func (c *stallConn) Identity() zocket.Identity { return zocket.Identity{} }
func (c *stallConn) Send(frame []byte) error {
	if strings.Contains(string(frame), `"id":`+c.stallID+`,`) {
		<-c.resume
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.frames = append(c.frames, string(frame))
	return nil
}

func (c *stallConn) results() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ids []string
	for _, f := range c.frames {
		if strings.Contains(f, `"rpc:result"`) {
			var m struct{ ID json.RawMessage }
			_ = json.Unmarshal([]byte(f), &m)
			ids = append(ids, string(m.ID))
		}
	}
	return ids
}

func TestGated_ANewActivationsAnswersDoNotOvertakeThoseItsPredecessorStillReleases(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newGateStore()
		app := notesApp(st)
		defer closeApp(t, app)
		h := zocket.NewHandler(app)
		c := &stallConn{stallID: "1", resume: make(chan struct{})}
		h.OnConnection(c)
		h.OnMessage(c, []byte(`{"type":"rpc","id":1,"actor":"notes","actorId":"n","method":"add","input":"x"}`))
		<-st.started // the answer waits for this write
		destroyed := make(chan error, 1)
		go func() { destroyed <- app.Destroy(context.Background(), "notes", "n") }()
		synctest.Wait()
		st.release <- struct{}{} // the write is done: the answer to 1 is released, slowly
		synctest.Wait()
		h.OnMessage(c, []byte(`{"type":"rpc","id":2,"actor":"notes","actorId":"n","method":"read"}`))
		synctest.Wait()
		close(c.resume)
		require.NoError(t, <-destroyed)
		synctest.Wait()
		require.Equal(t, []string{"1", "2"}, c.results(), "answers in the order of the calls")
		close(st.release)
	})
}

func TestDurable_ANewActivationLoadsTheWriteItsPredecessorHadUnderWay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newGateStore()
		app := notesApp(st)
		defer closeApp(t, app)
		ctx := context.Background()
		added := make(chan error, 1)
		go func() { _, err := addNote.Invoke(ctx, app, "notes", "n", "x"); added <- err }()
		<-st.started // the write of "x" is under way
		destroyed := make(chan error, 1)
		go func() { destroyed <- app.Destroy(ctx, "notes", "n") }()
		read := make(chan notes, 1)
		go func() { n, _ := readNotes.Invoke(ctx, app, "notes", "n", zocket.None{}); read <- n }()
		synctest.Wait()
		st.release <- struct{}{}
		require.NoError(t, <-added)
		require.NoError(t, <-destroyed)
		require.Equal(t, []string{"x"}, (<-read).Items, "the new instance loaded the change its caller was told of")
		close(st.release)
	})
}

// panicEnd is an Observer whose CallEnd panics.
type panicEnd struct{ zocket.NopObserver }

func (panicEnd) CallEnd(context.Context, zocket.CallInfo, zocket.CallEnd) { panic("observer bug") }

func TestGated_APanicAfterTheCommitStillSendsItsPatchToSubscribers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		app := notesApp(memstore.New(), zocket.WithObserver(panicEnd{}))
		defer closeApp(t, app)
		h := zocket.NewHandler(app)
		sub := zocket.NewLocalConn("sub", zocket.Identity{})
		h.OnConnection(sub)
		h.OnMessage(sub, []byte(`{"type":"state:sub","actor":"notes","actorId":"n"}`))
		synctest.Wait()
		_, err := addNote.Invoke(context.Background(), app, "notes", "n", "x")
		require.Error(t, err, "the call's pipeline panicked")
		synctest.Wait()
		frames := sub.Frames()
		require.Len(t, frames, 3, "welcome, snapshot, and the patch of the committed change")
		require.Contains(t, string(frames[2]), `"state:patch"`)
	})
}

// countingFailStore fails every Write, and blocks the one after limit
// attempts, recording when the first and the last attempts came.
type countingFailStore struct {
	zocket.Storage
	limit       int
	mu          sync.Mutex
	attempts    int
	first, last time.Time
	stop        chan struct{}
}

func (s *countingFailStore) Write(ctx context.Context, batch []zocket.Write) []error {
	s.mu.Lock()
	s.attempts++
	n := s.attempts
	if n == 1 {
		s.first = time.Now()
	}
	s.last = time.Now()
	s.mu.Unlock()
	if n == s.limit {
		<-s.stop
	}
	errs := make([]error, len(batch))
	for i := range errs {
		errs[i] = errors.New("no space left on device")
	}
	return errs
}

func TestAlarm_WhoseWritesKeepFailingIsRetriedWithoutSpinning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		mem := storedRinging(t, time.Now().Add(time.Minute))
		st := &countingFailStore{Storage: mem, limit: 10, stop: make(chan struct{})}
		def, _ := ringer()
		app := zocket.NewApp(zocket.WithStorage(st)).Register("notes", def.IdleTimeout(time.Hour))
		advance(time.Minute) // the alarm rings; its write fails, again and again
		for {
			st.mu.Lock()
			n := st.attempts
			st.mu.Unlock()
			if n >= st.limit {
				break
			}
			time.Sleep(time.Second)
		}
		st.mu.Lock()
		spent := st.last.Sub(st.first)
		st.mu.Unlock()
		require.GreaterOrEqual(t, spent, time.Duration(st.limit-1)*time.Second/2, "retries are spaced")
		close(st.stop)
		_ = app.Close(ctx)
	})
}

func TestAlarm_WhoseCallsWriteFailedAfterItsInstanceLeftRingsAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs := &failingStore{Storage: storedRinging(t, time.Now().Add(time.Minute))}
		gs := &gateStore{Storage: fs, started: make(chan struct{}, 100), release: make(chan struct{})}
		def, _ := ringer()
		app := zocket.NewApp(zocket.WithStorage(gs)).Register("notes", def.IdleTimeout(time.Hour))
		defer closeApp(t, app)
		advance(time.Minute)
		<-gs.started // the alarm rang: its call's write is under way
		fs.set("n", errors.New("no space left on device"))
		destroyed := make(chan error, 1)
		go func() { destroyed <- app.Destroy(context.Background(), "notes", "n") }()
		synctest.Wait()
		gs.release <- struct{}{} // the write fails; the instance has left
		require.NoError(t, <-destroyed)
		fs.set("n", nil)
		close(gs.release)
		advance(time.Minute)
		require.Equal(t, 1, readState(t, app, "n").N, "the stored alarm rang again, and its call was stored")
	})
}
