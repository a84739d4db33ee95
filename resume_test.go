package zocket_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/protocol"
	"github.com/zocket-go/zocket/storage/memstore"
	"github.com/zocket-go/zocket/zockettest"
)

// stateFrame is the parsed state frame of a test connection.
func stateFrame(t *testing.T, f zockettest.Frame) (typ string, version uint64, epoch string, hasVersion bool) {
	t.Helper()
	raw, err := json.Marshal(f)
	require.NoError(t, err)
	m, err := protocol.Parse(raw)
	require.NoError(t, err)
	return string(m.Type), m.Version, m.Epoch, m.HasVersion
}

// dial opens a test connection and reads its welcome.
func dial(t *testing.T, srv *zockettest.Server, id string, identity zocket.Identity) *zockettest.Conn {
	t.Helper()
	c := srv.Connect(t, id, identity)
	require.Equal(t, "welcome", c.Next().Type())
	return c
}

func add(t *testing.T, app *zocket.App, id string, n int) {
	t.Helper()
	for i := range n {
		_, err := addNote.Invoke(context.Background(), app, "notes", id, fmt.Sprint(i))
		require.NoError(t, err)
	}
}

func TestVersions_OnlySubscribersThatAskGetThem(t *testing.T) {
	app := zocket.NewApp().Register("notes", notesActor())
	defer closeApp(t, app)
	srv := zockettest.NewServer(app, zockettest.Options{})
	plain := dial(t, srv, "plain", zocket.Identity{})
	withV := dial(t, srv, "versioned", zocket.Identity{})
	plain.Write(`{"type":"state:sub","actor":"notes","actorId":"n"}`)
	withV.Write(`{"type":"state:sub","actor":"notes","actorId":"n","version":0}`)
	_, _, _, has := stateFrame(t, plain.Next())
	require.False(t, has, "a plain subscriber's frames are as before")
	typ, v, epoch, has := stateFrame(t, withV.Next())
	require.True(t, has)
	require.Equal(t, "state:snapshot", typ)
	require.Zero(t, v)
	require.NotEmpty(t, epoch)

	add(t, app, "n", 3)
	for want := uint64(1); want <= 3; want++ {
		_, _, _, has := stateFrame(t, plain.Next())
		require.False(t, has)
		typ, v, e, has := stateFrame(t, withV.Next())
		require.True(t, has)
		require.Equal(t, "state:patch", typ)
		require.Equal(t, want, v, "consecutive versions")
		require.Equal(t, epoch, e)
	}
}

func TestResume_SendsOnlyTheMissedPatches(t *testing.T) {
	app := zocket.NewApp().Register("notes", notesActor())
	defer closeApp(t, app)
	srv := zockettest.NewServer(app, zockettest.Options{})
	first := dial(t, srv, "first", zocket.Identity{})
	first.Write(`{"type":"state:sub","actor":"notes","actorId":"n","version":0}`)
	_, _, epoch, _ := stateFrame(t, first.Next())
	add(t, app, "n", 2)
	first.Next()
	first.Next()
	first.Close() // version 2 in hand

	add(t, app, "n", 3) // missed: 3, 4, 5
	again := dial(t, srv, "again", zocket.Identity{})
	again.Write(fmt.Sprintf(`{"type":"state:sub","actor":"notes","actorId":"n","version":2,"epoch":%q}`, epoch))
	for want := uint64(3); want <= 5; want++ {
		typ, v, _, _ := stateFrame(t, again.Next())
		require.Equal(t, "state:patch", typ)
		require.Equal(t, want, v)
	}
	// Current: nothing comes until the next change.
	current := dial(t, srv, "current", zocket.Identity{})
	current.Write(fmt.Sprintf(`{"type":"state:sub","actor":"notes","actorId":"n","version":5,"epoch":%q}`, epoch))
	add(t, app, "n", 1)
	typ, v, _, _ := stateFrame(t, current.Next())
	require.Equal(t, "state:patch", typ)
	require.EqualValues(t, 6, v)
}

func TestResume_FallsBackToASnapshot(t *testing.T) {
	app := zocket.NewApp(zocket.WithResumeHistory(200)).Register("notes", notesActor())
	defer closeApp(t, app)
	srv := zockettest.NewServer(app, zockettest.Options{})
	c := dial(t, srv, "c", zocket.Identity{})
	c.Write(`{"type":"state:sub","actor":"notes","actorId":"n","version":0}`)
	_, _, epoch, _ := stateFrame(t, c.Next())
	c.Close()
	add(t, app, "n", 20) // more than 200 bytes of patches

	for name, sub := range map[string]string{
		"history too short": fmt.Sprintf(`{"type":"state:sub","actor":"notes","actorId":"n","version":1,"epoch":%q}`, epoch),
		"another epoch":     `{"type":"state:sub","actor":"notes","actorId":"n","version":19,"epoch":"other"}`,
		"from the future":   fmt.Sprintf(`{"type":"state:sub","actor":"notes","actorId":"n","version":99,"epoch":%q}`, epoch),
	} {
		t.Run(name, func(t *testing.T) {
			c := dial(t, srv, name, zocket.Identity{})
			c.Write(sub)
			typ, v, _, has := stateFrame(t, c.Next())
			require.Equal(t, "state:snapshot", typ)
			require.True(t, has)
			require.EqualValues(t, 20, v)
		})
	}
}

func TestResume_AfterARestartComesFromTheStoredRecords(t *testing.T) {
	store := memstore.New()
	app := notesApp(store)
	srv := zockettest.NewServer(app, zockettest.Options{})
	c := dial(t, srv, "c", zocket.Identity{})
	c.Write(`{"type":"state:sub","actor":"notes","actorId":"n","version":0}`)
	_, _, epoch, _ := stateFrame(t, c.Next())
	add(t, app, "n", 5)
	for range 5 {
		c.Next()
	}
	c.Close()
	add(t, app, "n", 2) // missed while away: 6, 7
	closeApp(t, app)

	app = notesApp(store)
	defer closeApp(t, app)
	srv = zockettest.NewServer(app, zockettest.Options{})
	c = dial(t, srv, "back", zocket.Identity{})
	c.Write(fmt.Sprintf(`{"type":"state:sub","actor":"notes","actorId":"n","version":5,"epoch":%q}`, epoch))
	for want := uint64(6); want <= 7; want++ {
		typ, v, e, _ := stateFrame(t, c.Next())
		require.Equal(t, "state:patch", typ, "the missed patches, not a snapshot")
		require.Equal(t, want, v)
		require.Equal(t, epoch, e, "the epoch is kept across restarts")
	}
}

// slowConn is a connection whose outbound queue refuses state frames
// while full is set, as a transport's StateQueuer does.
type slowConn struct {
	*zocket.LocalConn
	mu      sync.Mutex
	full    bool
	drained []func()
}

func (c *slowConn) Queue(frame []byte) error { return c.Send(frame) }
func (c *slowConn) Flush(bool)               {}
func (c *slowConn) QueueState(frame []byte) bool {
	c.mu.Lock()
	full := c.full
	c.mu.Unlock()
	return !full && c.Send(frame) == nil
}
func (c *slowConn) OnDrained(fn func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.full {
		fn()
		return
	}
	c.drained = append(c.drained, fn)
}
func (c *slowConn) setFull(full bool) {
	c.mu.Lock()
	c.full = full
	fns := c.drained
	c.drained = nil
	c.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

func TestSlowSubscriber_IsResyncedNotDisconnected(t *testing.T) {
	for _, versioned := range []bool{true, false} {
		t.Run(fmt.Sprint("versioned=", versioned), func(t *testing.T) {
			app := zocket.NewApp().Register("notes", notesActor())
			defer closeApp(t, app)
			h := zocket.NewHandler(app)
			c := &slowConn{LocalConn: zocket.NewLocalConn("slow", zocket.Identity{})}
			h.OnConnection(c)
			ctx := context.Background()
			_, _ = c.Next(ctx) // welcome
			sub := `{"type":"state:sub","actor":"notes","actorId":"n"}`
			if versioned {
				sub = `{"type":"state:sub","actor":"notes","actorId":"n","version":0}`
			}
			h.OnMessage(c, []byte(sub))
			_, _ = c.Next(ctx) // snapshot
			add(t, app, "n", 1)
			_, _ = c.Next(ctx) // version 1

			c.setFull(true)
			add(t, app, "n", 100)
			require.Len(t, c.Frames(), 3, "nothing queued while full, and no close")
			c.setFull(false)
			raw, err := c.Next(ctx)
			require.NoError(t, err)
			m, err := protocol.Parse(raw)
			require.NoError(t, err)
			if versioned {
				require.Equal(t, protocol.TypeStatePatch, m.Type, "the missed patches from the history")
				require.EqualValues(t, 2, m.Version)
			} else {
				require.Equal(t, protocol.TypeStateSnapshot, m.Type, "a plain subscriber gets a snapshot")
				var s notes
				require.NoError(t, json.Unmarshal(m.State, &s))
				require.Len(t, s.Items, 101)
			}
			add(t, app, "n", 1)
			require.Eventually(t, func() bool {
				raw := c.Frames()[len(c.Frames())-1]
				m, _ := protocol.Parse(raw)
				return m.Type == protocol.TypeStatePatch && (!versioned || m.Version == 102)
			}, 10e9, 1e6, "live again")
		})
	}
}

func TestResume_WithoutHistoryAlwaysGetsASnapshot(t *testing.T) {
	app := zocket.NewApp(zocket.WithResumeHistory(-1)).Register("notes", notesActor())
	defer closeApp(t, app)
	srv := zockettest.NewServer(app, zockettest.Options{})
	c := dial(t, srv, "c", zocket.Identity{})
	c.Write(`{"type":"state:sub","actor":"notes","actorId":"n","version":0}`)
	_, _, epoch, _ := stateFrame(t, c.Next())
	add(t, app, "n", 1)
	c.Next()
	c.Close()

	again := dial(t, srv, "again", zocket.Identity{})
	again.Write(fmt.Sprintf(`{"type":"state:sub","actor":"notes","actorId":"n","version":0,"epoch":%q}`, epoch))
	typ, v, _, _ := stateFrame(t, again.Next())
	require.Equal(t, "state:snapshot", typ, "no history kept: a snapshot")
	require.EqualValues(t, 1, v)
}
