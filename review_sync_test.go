package zocket_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/protocol"
	"github.com/zocket-go/zocket/storage/memstore"
	"github.com/zocket-go/zocket/zockettest"
)

// nextState reads c's next frame as a state frame.
func nextState(t *testing.T, c *zocket.LocalConn) protocol.Message {
	t.Helper()
	raw, err := c.Next(context.Background())
	require.NoError(t, err)
	m, err := protocol.Parse(raw)
	require.NoError(t, err)
	return m
}

// slowSubscriber connects a slowConn to app and subscribes it to
// notes/n with versions; it has read the snapshot.
func slowSubscriber(t *testing.T, app *zocket.App) (*slowConn, *zocket.Handler) {
	t.Helper()
	h := zocket.NewHandler(app)
	c := &slowConn{LocalConn: zocket.NewLocalConn("slow", zocket.Identity{})}
	h.OnConnection(c)
	_, _ = c.Next(context.Background()) // welcome
	h.OnMessage(c, []byte(`{"type":"state:sub","actor":"notes","actorId":"n","version":0}`))
	nextState(t, c.LocalConn) // snapshot
	return c, h
}

var (
	ping     = zocket.MethodNoIO("ping", func(c *nc) error { return nil })
	armAlarm = zocket.MethodNoIO("arm", func(c *nc) error {
		ping.At(c, time.Now().Add(time.Hour), zocket.None{})
		return nil
	})
)

func TestVersions_ACommitThatOnlyChangesAlarmsKeepsVersionsConsecutive(t *testing.T) {
	app := zocket.NewApp(zocket.WithStorage(memstore.New())).
		Register("notes", zocket.NewActor[notes]().Durability(zocket.Relaxed).Methods(addNote, armAlarm, ping))
	defer closeApp(t, app)
	srv := zockettest.NewServer(app, zockettest.Options{})
	c := dial(t, srv, "c", zocket.Identity{})
	c.Write(`{"type":"state:sub","actor":"notes","actorId":"n","version":0}`)
	_, _, _, _ = stateFrame(t, c.Next())

	_, err := armAlarm.Invoke(context.Background(), app, "notes", "n", zocket.None{})
	require.NoError(t, err)
	add(t, app, "n", 1)
	for want := uint64(1); ; want++ {
		typ, v, _, has := stateFrame(t, c.Next())
		require.True(t, has)
		require.Equal(t, "state:patch", typ)
		require.Equal(t, want, v, "every version reaches a versioned subscriber")
		if v == 2 {
			break
		}
	}
}

func TestSlowSubscriber_StaleAcrossForgetGetsASnapshot(t *testing.T) {
	app := zocket.NewApp().Register("notes", notesActor())
	defer closeApp(t, app)
	c, _ := slowSubscriber(t, app)
	add(t, app, "n", 2)
	nextState(t, c.LocalConn)
	nextState(t, c.LocalConn) // version 2 in hand

	c.setFull(true)
	add(t, app, "n", 1) // refused: stale at version 2
	require.NoError(t, app.Forget(context.Background(), "notes", "n"))
	add(t, app, "n", 5) // versions 1..5 of the new epoch
	c.setFull(false)

	m := nextState(t, c.LocalConn)
	require.Equal(t, protocol.TypeStateSnapshot, m.Type, "the state it has belongs to the forgotten history")
	require.EqualValues(t, 5, m.Version)
	var s notes
	require.NoError(t, json.Unmarshal(m.State, &s))
	require.Len(t, s.Items, 5)
}

// hookLeaf is a state leaf whose encoding runs commitHook once, which lets
// a test act while the mailbox diffs a commit.
type hookLeaf struct{}

var commitHook atomic.Pointer[func()]

func (hookLeaf) MarshalJSON() ([]byte, error) {
	if fn := commitHook.Swap(nil); fn != nil {
		(*fn)()
	}
	return []byte("0"), nil
}

type hooked struct {
	N    int      `json:"n"`
	Leaf hookLeaf `json:"leaf"`
}

func TestResume_RacingACommitMissesNoVersion(t *testing.T) {
	inc := zocket.MethodNoIO("inc", func(c *zocket.Context[hooked, zocket.NoData]) error {
		c.State.N++
		return nil
	})
	app := zocket.NewApp().Register("h", zocket.NewActor[hooked]().Methods(inc))
	defer closeApp(t, app)
	h := zocket.NewHandler(app)
	first := zocket.NewLocalConn("first", zocket.Identity{})
	h.OnConnection(first)
	_, _ = first.Next(context.Background())
	h.OnMessage(first, []byte(`{"type":"state:sub","actor":"h","actorId":"x","version":0}`))
	epoch := nextState(t, first).Epoch

	late := zocket.NewLocalConn("late", zocket.Identity{})
	h.OnConnection(late)
	_, _ = late.Next(context.Background())
	hook := func() {
		// The commit of version 1 is under way: resume from version 0.
		h.OnMessage(late, fmt.Appendf(nil, `{"type":"state:sub","actor":"h","actorId":"x","version":0,"epoch":%q}`, epoch))
	}
	commitHook.Store(&hook)
	for range 2 {
		_, err := inc.Invoke(context.Background(), app, "h", "x", zocket.None{})
		require.NoError(t, err)
	}
	m := nextState(t, late)
	if m.Type == protocol.TypeStatePatch {
		require.EqualValues(t, 1, m.Version, "no gap after the version it has")
	} else {
		var s hooked
		require.NoError(t, json.Unmarshal(m.State, &s))
		require.Equal(t, int(m.Version), s.N, "a snapshot's version names its content")
	}
}

// holdFailStore holds every Write while failing is set, until the test
// lets it go, and then refuses it.
type holdFailStore struct {
	zocket.Storage
	failing atomic.Bool
	started chan struct{}
	release chan struct{}
}

func (s *holdFailStore) Write(ctx context.Context, batch []zocket.Write) []error {
	if !s.failing.Load() {
		return s.Storage.Write(ctx, batch)
	}
	s.started <- struct{}{}
	<-s.release
	errs := make([]error, len(batch))
	for i := range errs {
		errs[i] = errors.New("disk full")
	}
	return errs
}

func TestSlowSubscriber_StaleOnALostVersionGetsASnapshotAfterTheReload(t *testing.T) {
	st := &holdFailStore{Storage: memstore.New(), started: make(chan struct{}, 10), release: make(chan struct{}, 10)}
	app := zocket.NewApp(zocket.WithStorage(st)).
		Register("notes", zocket.NewActor[notes]().Durability(zocket.Relaxed).Methods(addNote))
	defer closeApp(t, app)
	c, _ := slowSubscriber(t, app)

	st.failing.Store(true)
	add(t, app, "n", 1)
	nextState(t, c.LocalConn) // version 1, not yet written
	<-st.started
	c.setFull(true)
	add(t, app, "n", 1) // version 2 refused: stale at version 1
	st.release <- struct{}{}
	require.Eventually(t, func() bool { return app.Instances()[0].Version == 0 }, 10*time.Second, time.Millisecond,
		"the failed write takes versions 1 and 2 back")
	st.failing.Store(false)
	add(t, app, "n", 2) // versions 1 and 2 again, other content
	c.setFull(false)

	m := nextState(t, c.LocalConn)
	require.Equal(t, protocol.TypeStateSnapshot, m.Type, "its version 1 was lost")
	var s notes
	require.NoError(t, json.Unmarshal(m.State, &s))
	require.Equal(t, []string{"0", "1"}, s.Items)
}

func TestResume_AVersionLostWithAFailedWriteIsNotTakenForTheNewOne(t *testing.T) {
	st := &holdFailStore{Storage: memstore.New(), started: make(chan struct{}, 10), release: make(chan struct{}, 10)}
	app := zocket.NewApp(zocket.WithStorage(st)).
		Register("notes", zocket.NewActor[notes]().Durability(zocket.Relaxed).Methods(addNote))
	defer closeApp(t, app)
	srv := zockettest.NewServer(app, zockettest.Options{})
	away := dial(t, srv, "away", zocket.Identity{})
	away.Write(`{"type":"state:sub","actor":"notes","actorId":"n","version":0}`)
	_, _, epoch, _ := stateFrame(t, away.Next())

	st.failing.Store(true)
	_, err := addNote.Invoke(context.Background(), app, "notes", "n", "lost")
	require.NoError(t, err, "Relaxed: answered before the write")
	_, v, _, _ := stateFrame(t, away.Next())
	require.EqualValues(t, 1, v)
	away.Close() // with version 1: {"items":["lost"]}
	<-st.started
	st.release <- struct{}{}
	require.Eventually(t, func() bool { return app.Instances()[0].Version == 0 }, 10*time.Second, time.Millisecond)
	st.failing.Store(false)
	_, err = addNote.Invoke(context.Background(), app, "notes", "n", "kept")
	require.NoError(t, err) // version 1 again: {"items":["kept"]}

	back := dial(t, srv, "back", zocket.Identity{})
	back.Write(fmt.Sprintf(`{"type":"state:sub","actor":"notes","actorId":"n","version":1,"epoch":%q}`, epoch))
	_, err = addNote.Invoke(context.Background(), app, "notes", "n", "next")
	require.NoError(t, err)
	typ, _, _, _ := stateFrame(t, back.Next())
	require.Equal(t, "state:snapshot", typ, "its version 1 is not the instance's version 1")
}

func TestSlowSubscriber_ResubscribingWhileStaleGetsNoVersionTwice(t *testing.T) {
	app := zocket.NewApp().Register("notes", notesActor())
	defer closeApp(t, app)
	c, h := slowSubscriber(t, app)
	add(t, app, "n", 1)
	epoch := nextState(t, c.LocalConn).Epoch // version 1

	c.setFull(true)
	add(t, app, "n", 2) // refused: stale at version 1
	h.OnMessage(c, fmt.Appendf(nil, `{"type":"state:sub","actor":"notes","actorId":"n","version":1,"epoch":%q}`, epoch))
	c.setFull(false)
	add(t, app, "n", 1)
	for want := uint64(2); want <= 4; want++ {
		m := nextState(t, c.LocalConn)
		require.Equal(t, protocol.TypeStatePatch, m.Type)
		require.Equal(t, want, m.Version, "each version once, in order")
	}
}

// The new epoch a Relaxed instance draws after losing versions is stored at
// once: a restart (or passivation) does not bring back the old epoch, with
// which a client holding a lost version would pass for current.
func TestResume_TheEpochDrawnAfterLostVersionsSurvivesARestart(t *testing.T) {
	st := &holdFailStore{Storage: memstore.New(), started: make(chan struct{}, 10), release: make(chan struct{}, 10)}
	newApp := func() *zocket.App {
		return zocket.NewApp(zocket.WithStorage(st)).
			Register("notes", zocket.NewActor[notes]().Durability(zocket.Relaxed).Methods(addNote, readNotes))
	}
	app := newApp()
	_, err := addNote.Invoke(context.Background(), app, "notes", "n", "stored") // version 1
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		s, _ := st.Load(context.Background(), "notes", "n")
		return s.Version == 1
	}, 10*time.Second, time.Millisecond)
	first, _ := st.Load(context.Background(), "notes", "n")

	st.failing.Store(true)
	_, err = addNote.Invoke(context.Background(), app, "notes", "n", "lost") // version 2, never stored
	require.NoError(t, err)
	<-st.started
	st.failing.Store(false)
	st.release <- struct{}{}
	require.Eventually(t, func() bool {
		s, _ := st.Load(context.Background(), "notes", "n")
		return s.Snapshot != nil && s.Snapshot.Epoch != first.Snapshot.Epoch
	}, 10*time.Second, time.Millisecond, "the new epoch is stored without waiting for another commit")
	closeApp(t, app)

	app = newApp()
	defer closeApp(t, app)
	srv := zockettest.NewServer(app, zockettest.Options{})
	c := dial(t, srv, "c", zocket.Identity{})
	c.Write(fmt.Sprintf(`{"type":"state:sub","actor":"notes","actorId":"n","version":1,"epoch":%q}`, first.Snapshot.Epoch))
	_, err = addNote.Invoke(context.Background(), app, "notes", "n", "next")
	require.NoError(t, err)
	typ, _, epoch, _ := stateFrame(t, c.Next())
	require.Equal(t, "state:snapshot", typ, "a client of the old epoch gets a snapshot")
	require.NotEqual(t, first.Snapshot.Epoch, epoch)
}
