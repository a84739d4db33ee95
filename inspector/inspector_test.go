package inspector_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/inspector"
)

func TestNew_FailsWithoutAuthorize(t *testing.T) {
	_, err := inspector.New(zocket.NewApp(), inspector.Options{Recorder: inspector.NewRecorder()})
	require.ErrorIs(t, err, inspector.ErrNoAuthorize)
}

var routes = []string{"/", "/stats.json", "/zocket.js", "/socket", "/nosuch"}

func TestInspector_RefusesEveryRouteWithoutAuthorization(t *testing.T) {
	s := serve(t)
	for _, path := range routes {
		status, body := s.get(t, path)
		assert.Equal(t, http.StatusUnauthorized, status, path)
		assert.Equal(t, "Unauthorized\n", body, "%s: the status and nothing else", path)

		status, body = s.get(t, path+"?token=wrong")
		assert.Equal(t, http.StatusForbidden, status, "%s: an error wrapping ErrForbidden", path)
		assert.Equal(t, "Forbidden\n", body, path)
	}
}

func TestInspector_ServesEveryRouteToAnAuthorizedRequest(t *testing.T) {
	s := serve(t)
	status, body := s.get(t, "/?token="+token)
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "<title>zocket inspector</title>")
	status, body = s.get(t, "/zocket.js?token="+token)
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "export function createClient")
	status, _ = s.get(t, "/nosuch?token="+token)
	assert.Equal(t, http.StatusNotFound, status)
}

func TestInspector_SocketUpgradesOnlyAuthorizedRequests(t *testing.T) {
	s := serve(t)
	ctx := context.Background()
	socket := "ws" + strings.TrimPrefix(s.url, "http") + "/inspect/socket"

	_, res, err := websocket.Dial(ctx, socket, nil)
	require.Error(t, err)
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)

	c, _, err := websocket.Dial(ctx, socket+"?token="+token, nil)
	require.NoError(t, err)
	defer c.CloseNow()
	_, welcome, err := c.Read(ctx)
	require.NoError(t, err)
	assert.Contains(t, string(welcome), `"type":"welcome"`, "a zocket connection to the App")
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(`{"type":"state:sub","actor":"counter","actorId":"a"}`)))
	_, snapshot, err := c.Read(ctx)
	require.NoError(t, err)
	assert.JSONEq(t, `{"type":"state:snapshot","actor":"counter","actorId":"a","state":{"n":0}}`, string(snapshot))
}

// ends writes down the CallEnd of every call.
type ends struct {
	zocket.NopObserver
	mu  sync.Mutex
	all []zocket.CallEnd
}

func (e *ends) CallEnd(_ context.Context, _ zocket.CallInfo, end zocket.CallEnd) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, end)
}

func TestInspector_StatsListAnInstanceWithItsLastCallAndMethodCounts(t *testing.T) {
	spy := &ends{}
	s := serve(t, spy)
	require.NoError(t, s.invoke(t, "a", "add", 2))
	require.NoError(t, s.invoke(t, "a", "add", 3))
	require.Error(t, s.invoke(t, "a", "fail", nil))
	h := zocket.NewHandler(s.app)
	watcher := zocket.NewLocalConn("watcher", zocket.Identity{})
	h.Attach(watcher)
	h.OnMessage(watcher, []byte(`{"type":"state:sub","actor":"counter","actorId":"a"}`))
	h.OnMessage(watcher, []byte(`{"type":"event:sub","actor":"counter","actorId":"a"}`))

	stats := s.stats(t)
	require.Len(t, spy.all, 3)
	live := s.app.Instances()
	require.Len(t, live, 1)
	assert.Equal(t, 1.0, stats["total"])
	assert.Equal(t, true, stats["recording"])
	assert.Equal(t, []any{map[string]any{
		"actor": "counter", "id": "a",
		"stateSubscribers": 1.0, "eventSubscribers": 1.0, "connections": 1.0,
		"queued": 0.0, "running": false, "version": float64(live[0].Version),
		"lastCall": map[string]any{"method": "fail", "outcome": "error", "durationNs": float64(spy.all[2].Duration)},
	}}, stats["instances"])

	methods := stats["methods"].([]any)
	require.Len(t, methods, 2)
	add, fail := methods[0].(map[string]any), methods[1].(map[string]any)
	assert.Equal(t, []any{"counter", "add", 2.0, 0.0, 0.0}, []any{add["actor"], add["method"], add["count"], add["errors"], add["panics"]})
	assert.Equal(t, []any{"counter", "fail", 1.0, 1.0, 0.0}, []any{fail["actor"], fail["method"], fail["count"], fail["errors"], fail["panics"]})
	assert.Equal(t, float64(max(spy.all[0].Duration, spy.all[1].Duration)), add["maxNs"])
	for _, k := range []string{"meanNs", "p50Ns", "p99Ns"} {
		assert.Contains(t, add, k)
	}
}

func TestInspector_ForgetsInstancesWhenTheyAreDestroyed(t *testing.T) {
	s := serve(t)
	ids := []string{"a", "b", "c"}
	for _, id := range ids {
		require.NoError(t, s.invoke(t, id, "add", 1))
	}
	require.Len(t, s.stats(t)["instances"], 3)
	for _, id := range ids {
		require.NoError(t, s.app.Destroy(context.Background(), "counter", id))
		_, ok := s.rec.LastCall("counter", id)
		assert.False(t, ok, "the Recorder dropped %s's last call", id)
	}
	stats := s.stats(t)
	assert.Empty(t, stats["instances"])
	assert.Len(t, stats["methods"], 1, "methods are kept: one entry per declared method")
}

func TestInspector_ListsAtMostMaxInstancesAndCountsThemAll(t *testing.T) {
	app := zocket.NewApp().Register("counter", counterActor())
	defer app.Close(context.Background())
	for _, id := range []string{"c", "a", "b"} {
		_, err := app.Invoke(context.Background(), "counter", id, "add", []byte("1"))
		require.NoError(t, err)
	}
	insp, err := inspector.New(app, inspector.Options{Authorize: byToken, MaxInstances: 2})
	require.NoError(t, err)
	snap := insp.Snapshot()
	assert.Equal(t, 3, snap.Total)
	require.Len(t, snap.Instances, 2)
	assert.Equal(t, []string{"a", "b"}, []string{snap.Instances[0].ID, snap.Instances[1].ID})
	assert.False(t, snap.Recording, "no Recorder")
	assert.Nil(t, snap.Instances[0].LastCall)
}

func TestInspector_SocketRefusesOtherOriginsUnlessAllowed(t *testing.T) {
	app := zocket.NewApp().Register("counter", counterActor())
	defer app.Close(context.Background())
	dial := func(patterns []string) int {
		insp, err := inspector.New(app, inspector.Options{Authorize: byToken, OriginPatterns: patterns})
		require.NoError(t, err)
		defer insp.Shutdown(context.Background())
		srv := httptest.NewServer(insp)
		defer srv.Close()
		c, res, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http")+"/socket?token="+token,
			&websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"http://dev.example:5173"}}})
		if err == nil {
			c.CloseNow()
		}
		return res.StatusCode
	}
	assert.Equal(t, http.StatusForbidden, dial(nil), "same origin only by default")
	assert.Equal(t, http.StatusSwitchingProtocols, dial([]string{"dev.example:*"}))
}
