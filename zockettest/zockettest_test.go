package zockettest_test

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/client"
	"github.com/zocket-go/zocket/zockettest"
)

// Visits is the state of the kit tests' actor.
type Visits struct {
	Seen []string `json:"seen"`
}

var (
	visited = zocket.Event[string]("visited")
	visit   = zocket.MethodNoInput("visit", func(c *zocket.Context[Visits, zocket.NoData]) (string, error) {
		who := c.Identity.UserID
		c.State.Seen = append(c.State.Seen, who)
		visited.Broadcast(c, who)
		return who, nil
	})
	// wait tells entered that it runs, then blocks until release.
	entered = make(chan struct{}, 1)
	release = make(chan struct{})
	wait    = zocket.MethodNoIO("wait", func(c *zocket.Context[Visits, zocket.NoData]) error {
		entered <- struct{}{}
		<-release
		return nil
	})
)

func visitsApp(left chan<- string) *zocket.App {
	return zocket.NewApp().Register("visits", zocket.NewActor[Visits]().Methods(visit, wait).Events(visited).
		OnDisconnect(func(c *zocket.Lifecycle[Visits]) error {
			left <- c.ClientID
			return nil
		}))
}

func TestConn_CallReturnsItsResultAndLeavesEarlierFramesToNext(t *testing.T) {
	srv := zockettest.NewServer(visitsApp(make(chan string, 1)), zockettest.Options{})
	conn := srv.Connect(t, "raw", zocket.Identity{UserID: "ann"})
	assert.Equal(t, zockettest.Frame{"type": "welcome", "clientId": "raw"}, conn.Next())

	conn.Write(`{"type":"state:sub","actor":"visits","actorId":"v"}`)
	conn.Write(`{"type":"event:sub","actor":"visits","actorId":"v"}`)
	res := conn.Call("visits", "v", "visit", nil)

	assert.Equal(t, "rpc:result", res.Type())
	assert.Equal(t, "ann", res["result"])
	assert.Equal(t, "state:snapshot", conn.Next().Type())
	assert.Equal(t, "state:patch", conn.Next().Type())
	assert.Equal(t, zockettest.Frame{"type": "event", "actor": "visits", "actorId": "v", "event": "visited", "payload": "ann"}, conn.Next())
}

func TestServer_ClientGetsStateEventsAndIdentity(t *testing.T) {
	srv := zockettest.NewServer(visitsApp(make(chan string, 1)), zockettest.Options{
		Identify: func(string) (zocket.Identity, error) { return zocket.Identity{UserID: "bob"}, nil }})
	c := srv.Client(t, client.Options{})
	h := c.Actor("visits", "v")
	defer h.Release()
	states := make(chan Visits, 4)
	client.OnState(h, func(v Visits) { states <- v })
	events := make(chan string, 4)
	client.OnEvent(h, visited, func(who string) { events <- who })

	who, err := client.Call(t.Context(), h, visit, zocket.None{})
	require.NoError(t, err)
	assert.Equal(t, "bob", who)
	assert.Equal(t, "bob", <-events)
	for v := range states {
		if len(v.Seen) == 1 {
			assert.Equal(t, []string{"bob"}, v.Seen)
			break
		}
	}
}

func TestServer_ClientCloseRunsTheDisconnectHook(t *testing.T) {
	left := make(chan string, 1)
	srv := zockettest.NewServer(visitsApp(left), zockettest.Options{})
	c := srv.Client(t, client.Options{})
	_, err := client.Call(t.Context(), c.Actor("visits", "v"), visit, zocket.None{})
	require.NoError(t, err)
	assert.Equal(t, 1, srv.Len())

	c.Close()
	assert.Equal(t, "zt-client-1", <-left)
	assert.Equal(t, 0, srv.Len())
}

func TestServer_DropFailsCallsInFlightWithTheReason(t *testing.T) {
	srv := zockettest.NewServer(visitsApp(make(chan string, 1)), zockettest.Options{})
	c := srv.Client(t, client.Options{ReconnectDelay: func(int) time.Duration { return 0 }})
	errc := make(chan error, 1)
	go func() {
		_, err := client.Call(t.Context(), c.Actor("visits", "v"), wait, zocket.None{})
		errc <- err
	}()
	<-entered
	srv.Drop("restarting")
	err := <-errc
	assert.ErrorIs(t, err, client.ErrConnectionLost)
	assert.EqualError(t, err, "restarting")
	release <- struct{}{}
}

// Without a clock of its own, the client's backoff is tested under
// testing/synctest: the first reconnect comes 250 to 350 ms of fake time
// after a drop, exactly.
func TestSynctest_ReconnectBackoffTakesNoRealTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := zockettest.NewServer(visitsApp(make(chan string, 1)), zockettest.Options{})
		c := srv.Client(t, client.Options{})
		changed := make(chan client.Status, 4)
		c.OnStatus(func(s client.Status) { changed <- s })

		dropped := time.Now()
		srv.Drop("gone")
		require.Equal(t, client.Reconnecting, <-changed)
		require.Equal(t, client.Connected, <-changed)
		took := time.Since(dropped)
		synctest.Wait() // welcome read
		assert.GreaterOrEqual(t, took, 250*time.Millisecond)
		assert.Less(t, took, 350*time.Millisecond)
		assert.Equal(t, "zt-client-2", c.ClientID())
	})
}

func TestServer_ReadLimitStopsAClientWhoseSnapshotIsTooBig(t *testing.T) {
	srv := zockettest.NewServer(visitsApp(make(chan string, 1)), zockettest.Options{ReadLimit: 60})
	c := srv.Client(t, client.Options{})
	changed := make(chan client.Status, 4)
	c.OnStatus(func(s client.Status) { changed <- s })

	c.Actor("visits", "a-name-long-enough-for-a-snapshot-over-sixty-bytes").Subscribe(func(any) {})
	assert.Equal(t, client.Disconnected, <-changed)
	assert.ErrorIs(t, c.Err(), client.ErrMessageTooBig)
	assert.Equal(t, 0, srv.Len())
}

// Handler.Disconnect closes an in-memory connection as a socket transport
// closes a socket: the client reads 1008 and the reason, and the server
// forgets the connection.
func TestServer_DisconnectClosesTheConnectionWithTheReason(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := zockettest.NewServer(visitsApp(make(chan string, 1)), zockettest.Options{})
		sock, err := srv.Dial(t.Context(), zockettest.URL)
		require.NoError(t, err)
		welcome, err := sock.Read()
		require.NoError(t, err)
		id := strings.TrimSuffix(strings.TrimPrefix(string(welcome), `{"type":"welcome","clientId":"`), `"}`)

		require.True(t, srv.Handler().Disconnect(id, "token revoked"))
		_, err = sock.Read()
		var ce *client.CloseError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, client.CloseError{Code: 1008, Reason: "token revoked"}, *ce)
		synctest.Wait()
		assert.Zero(t, srv.Len())
	})
}
