package zocket_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/storage/memstore"
	"github.com/zocket-go/zocket/zockettest"
)

type notes struct {
	Items []string `json:"items"`
	N     int      `json:"n"`
}

type nc = zocket.Context[notes, zocket.NoData]

var (
	addNote = zocket.Method("add", func(c *nc, text string) (int, error) {
		c.State.Items = append(c.State.Items, text)
		c.State.N++
		return len(c.State.Items), nil
	})
	readNotes = zocket.MethodNoInput("read", func(c *nc) (notes, error) { return *c.State, nil })
	touch     = zocket.Method("touch", func(c *nc, i int) (zocket.None, error) {
		c.State.Items[i] += "!"
		return zocket.None{}, nil
	})
	failAfterChange = zocket.MethodNoIO("fail", func(c *nc) error {
		c.State.N = -1
		return errors.New("refused")
	})
)

func notesActor() *zocket.Actor[notes, zocket.NoData] {
	return zocket.NewActor[notes]().Methods(addNote, readNotes, touch, failAfterChange)
}

func notesApp(st zocket.Storage, opts ...zocket.Option) *zocket.App {
	return zocket.NewApp(append(opts, zocket.WithStorage(st))...).Register("notes", notesActor())
}

func closeApp(t *testing.T, app *zocket.App) {
	t.Helper()
	require.NoError(t, app.Close(context.Background()))
}

func readState(t *testing.T, app *zocket.App, id string) notes {
	t.Helper()
	n, err := readNotes.Invoke(context.Background(), app, "notes", id, zocket.None{})
	require.NoError(t, err)
	return n
}

func TestDurable_StateAndVersionSurviveARestart(t *testing.T) {
	st := memstore.New()
	app := notesApp(st)
	for _, s := range []string{"a", "b", "c"} {
		_, err := addNote.Invoke(context.Background(), app, "notes", "n1", s)
		require.NoError(t, err)
	}
	require.EqualValues(t, 3, app.Instances()[0].Version)
	closeApp(t, app)

	app = notesApp(st)
	defer closeApp(t, app)
	require.Equal(t, notes{Items: []string{"a", "b", "c"}, N: 3}, readState(t, app, "n1"))
	require.EqualValues(t, 3, app.Instances()[0].Version, "the version is kept across activations")
	_, err := addNote.Invoke(context.Background(), app, "notes", "n1", "d")
	require.NoError(t, err)
	require.EqualValues(t, 4, app.Instances()[0].Version)
}

func TestDurable_BytesWrittenPerCallDoNotGrowWithTheState(t *testing.T) {
	perCall := map[int]int{}
	for _, n := range []int{100, 10_000, 100_000} {
		st := memstore.New()
		app := zocket.NewApp(zocket.WithStorage(st)).Register("notes", notesActor().Initial(func() notes {
			items := make([]string, n)
			for i := range items {
				items[i] = fmt.Sprintf("item %06d", i)
			}
			return notes{Items: items}
		}))
		_, err := touch.Invoke(context.Background(), app, "notes", "big", 0) // first write: a snapshot
		require.NoError(t, err)
		_, before := st.Stats()
		const calls = 50
		for i := range calls {
			_, err := touch.Invoke(context.Background(), app, "notes", "big", (i*7919)%n)
			require.NoError(t, err)
		}
		_, after := st.Stats()
		perCall[n] = (after - before) / calls
		t.Logf("n=%d: %d bytes stored per call", n, perCall[n])
		closeApp(t, app)
	}
	for n, b := range perCall {
		require.Less(t, b, 100, "bytes per call at n=%d: %v", n, perCall)
	}
}

// gateStore holds every Write until the test lets it go.
type gateStore struct {
	zocket.Storage
	started chan struct{}
	release chan struct{}
}

func newGateStore() *gateStore {
	return &gateStore{Storage: memstore.New(), started: make(chan struct{}, 100), release: make(chan struct{}, 100)}
}

func (g *gateStore) Write(ctx context.Context, batch []zocket.Write) []error {
	g.started <- struct{}{}
	<-g.release
	return g.Storage.Write(ctx, batch)
}

func TestGated_ResultWaitsForTheWriteWhileTheNextCallRuns(t *testing.T) {
	st := newGateStore()
	app := notesApp(st)
	srv := zockettest.NewServer(app, zockettest.Options{})
	conn := zocket.NewLocalConn("c1", zocket.Identity{})
	srv.Handler().OnConnection(conn)
	ctx := context.Background()
	_, _ = conn.Next(ctx) // welcome

	srv.Handler().OnMessage(conn, []byte(`{"type":"rpc","id":1,"actor":"notes","actorId":"n","method":"add","input":"first"}`))
	<-st.started // the first commit is being written
	srv.Handler().OnMessage(conn, []byte(`{"type":"rpc","id":2,"actor":"notes","actorId":"n","method":"add","input":"second"}`))
	// The second call runs while the first write is held: its commit is
	// queued for the next write, and neither result has left.
	require.Eventually(t, func() bool { return app.Instances()[0].Version == 2 }, 10*time.Second, time.Millisecond)
	require.Empty(t, conn.Frames()[1:], "no result before its write is durable")

	st.release <- struct{}{}
	first, err := conn.Next(ctx)
	require.NoError(t, err)
	require.JSONEq(t, `{"type":"rpc:result","id":1,"result":1}`, string(first))
	<-st.started
	st.release <- struct{}{}
	second, err := conn.Next(ctx)
	require.NoError(t, err)
	require.JSONEq(t, `{"type":"rpc:result","id":2,"result":2}`, string(second))
	close(st.release)
	closeApp(t, app)
}

func TestGated_SubscribersSeeOnlyDurableState(t *testing.T) {
	st := newGateStore()
	app := notesApp(st)
	srv := zockettest.NewServer(app, zockettest.Options{})
	caller := srv.Connect(t, "caller", zocket.Identity{})
	sub := zocket.NewLocalConn("sub", zocket.Identity{})
	srv.Handler().OnConnection(sub)
	ctx := context.Background()
	_, _ = sub.Next(ctx) // welcome

	caller.Write(`{"type":"rpc","id":1,"actor":"notes","actorId":"n","method":"add","input":"x"}`)
	<-st.started
	srv.Handler().OnMessage(sub, []byte(`{"type":"state:sub","actor":"notes","actorId":"n"}`))
	require.Eventually(t, func() bool { return app.Instances()[0].StateSubscribers == 1 }, 10*time.Second, time.Millisecond)
	require.Len(t, sub.Frames(), 1, "no snapshot of a state that is not durable")
	st.release <- struct{}{}
	snap, err := sub.Next(ctx)
	require.NoError(t, err)
	require.JSONEq(t, `{"type":"state:snapshot","actor":"notes","actorId":"n","state":{"items":["x"],"n":1}}`, string(snap))
	close(st.release)
	closeApp(t, app)
}

// failingStore fails the writes of the instances named in fail.
type failingStore struct {
	zocket.Storage
	mu   sync.Mutex
	fail map[string]error
}

func (f *failingStore) set(id string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail == nil {
		f.fail = map[string]error{}
	}
	f.fail[id] = err
}

func (f *failingStore) Write(ctx context.Context, batch []zocket.Write) []error {
	f.mu.Lock()
	var ok []zocket.Write
	var idx []int
	errs := make([]error, len(batch))
	for i, w := range batch {
		if err := f.fail[w.ID]; err != nil {
			errs[i] = err
			continue
		}
		ok = append(ok, w)
		idx = append(idx, i)
	}
	f.mu.Unlock()
	for j, err := range f.Storage.Write(ctx, ok) {
		errs[idx[j]] = err
	}
	for _, err := range errs {
		if err != nil {
			return errs
		}
	}
	return nil
}

func TestGated_AFailedWriteFailsTheCallAndRollsBackOnlyThatInstance(t *testing.T) {
	st := &failingStore{Storage: memstore.New()}
	app := notesApp(st)
	defer closeApp(t, app)
	ctx := context.Background()
	for _, id := range []string{"sick", "well"} {
		_, err := addNote.Invoke(ctx, app, "notes", id, "kept")
		require.NoError(t, err)
	}
	st.set("sick", errors.New("no space left on device"))
	_, err := addNote.Invoke(ctx, app, "notes", "sick", "lost")
	require.ErrorIs(t, err, zocket.ErrStorage)
	require.Equal(t, "State not saved: storage failed", err.Error())
	_, err = addNote.Invoke(ctx, app, "notes", "well", "fine")
	require.NoError(t, err, "other instances are unaffected")

	st.set("sick", nil)
	require.Equal(t, notes{Items: []string{"kept"}, N: 1}, readState(t, app, "sick"), "memory rolled back to the durable state")
	require.Equal(t, notes{Items: []string{"kept", "fine"}, N: 2}, readState(t, app, "well"))
	_, err = addNote.Invoke(ctx, app, "notes", "sick", "again")
	require.NoError(t, err)
	require.Equal(t, []string{"kept", "again"}, readState(t, app, "sick").Items)
}

func TestDurable_TwoWritersOfOneInstance_TheLoserIsFencedAndReloads(t *testing.T) {
	st := memstore.New()
	ctx := context.Background()
	a := notesApp(st)
	defer closeApp(t, a)
	b := notesApp(st)
	defer closeApp(t, b)
	_, err := addNote.Invoke(ctx, a, "notes", "n", "from a")
	require.NoError(t, err)
	require.Equal(t, []string{"from a"}, readState(t, b, "n").Items) // b activates at version 1
	_, err = addNote.Invoke(ctx, a, "notes", "n", "a again")
	require.NoError(t, err)

	_, err = addNote.Invoke(ctx, b, "notes", "n", "from b")
	require.ErrorIs(t, err, zocket.ErrConflict, "b wrote on a stale version")
	require.Equal(t, []string{"from a", "a again"}, readState(t, b, "n").Items, "b reloaded a's state")
	_, err = addNote.Invoke(ctx, b, "notes", "n", "from b")
	require.NoError(t, err)
	stored, err := st.Load(ctx, "notes", "n")
	require.NoError(t, err)
	require.EqualValues(t, 3, stored.Version, "no update lost")
}

func TestDurable_UndecodableStoredStateFailsActivationAndIsNeverOverwritten(t *testing.T) {
	st := memstore.New()
	ctx := context.Background()
	errs := st.Write(ctx, []zocket.Write{{Actor: "notes", ID: "bad",
		Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(`{"items":"not a list","n":1}`)}}})
	require.Nil(t, errs)
	app := notesApp(st)
	defer closeApp(t, app)
	for range 2 {
		_, err := addNote.Invoke(ctx, app, "notes", "bad", "x")
		require.ErrorIs(t, err, zocket.ErrStorage)
		require.Contains(t, err.Error(), "Cannot load the state of notes/bad")
	}
	stored, err := st.Load(ctx, "notes", "bad")
	require.NoError(t, err)
	require.EqualValues(t, 1, stored.Version)
	require.JSONEq(t, `{"items":"not a list","n":1}`, string(stored.Snapshot.State))
	_, err = addNote.Invoke(ctx, app, "notes", "good", "x")
	require.NoError(t, err, "other instances work")
}

type notesV2 struct {
	Items []string `json:"items"`
	Title string   `json:"title"`
	Limit int      `json:"limit"`
}

func (n *notesV2) SetDefaults() { n.Limit = 10 }

func TestDurable_StoredStateDecodesIntoTheCurrentStateType(t *testing.T) {
	st := memstore.New()
	ctx := context.Background()
	app := notesApp(st)
	_, err := addNote.Invoke(ctx, app, "notes", "n", "kept")
	require.NoError(t, err)
	closeApp(t, app)

	get := zocket.MethodNoInput("get", func(c *zocket.Context[notesV2, zocket.NoData]) (notesV2, error) { return *c.State, nil })
	app = zocket.NewApp(zocket.WithStorage(st)).Register("notes", zocket.NewActor[notesV2]().Methods(get))
	defer closeApp(t, app)
	got, err := get.Invoke(ctx, app, "notes", "n", zocket.None{})
	require.NoError(t, err)
	require.Equal(t, notesV2{Items: []string{"kept"}, Limit: 10}, got, "n dropped, title zero, limit from the Defaulter")
}

func TestRelaxed_ResultsDoNotWaitAndWritesFollowWithinTheDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := memstore.New()
		app := zocket.NewApp(zocket.WithStorage(st), zocket.WithWriteBehind(time.Second)).
			Register("notes", notesActor().Durability(zocket.Relaxed))
		ctx := context.Background()
		_, err := addNote.Invoke(ctx, app, "notes", "n", "x")
		require.NoError(t, err)
		synctest.Wait()
		stored, err := st.Load(ctx, "notes", "n")
		require.NoError(t, err)
		require.Zero(t, stored.Version, "not written before the delay")
		time.Sleep(time.Second)
		synctest.Wait()
		stored, err = st.Load(ctx, "notes", "n")
		require.NoError(t, err)
		require.EqualValues(t, 1, stored.Version)
		closeApp(t, app)
	})
}

func TestEphemeral_ActorTypesOfADurableAppWriteNothing(t *testing.T) {
	st := memstore.New()
	app := zocket.NewApp(zocket.WithStorage(st)).Register("notes", notesActor().Durability(zocket.Ephemeral))
	_, err := addNote.Invoke(context.Background(), app, "notes", "n", "x")
	require.NoError(t, err)
	closeApp(t, app)
	writes, _ := st.Stats()
	require.Zero(t, writes)
}

func TestFailedCall_WritesNothing(t *testing.T) {
	st := memstore.New()
	app := notesApp(st)
	_, err := addNote.Invoke(context.Background(), app, "notes", "n", "x")
	require.NoError(t, err)
	_, err = app.Invoke(context.Background(), "notes", "n", "fail", nil)
	require.EqualError(t, err, "refused")
	closeApp(t, app)
	stored, err := st.Load(context.Background(), "notes", "n")
	require.NoError(t, err)
	require.EqualValues(t, 1, stored.Version)
	require.False(t, strings.Contains(string(stored.Snapshot.State), "-1"))
}
