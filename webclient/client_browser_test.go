package webclient_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/internal/testsupport/browsertest"
	"github.com/zocket-go/zocket/transport/wshttp"
	"github.com/zocket-go/zocket/webclient"
)

type counter struct {
	N int `json:"n"`
}

type testCtx = zocket.Context[counter, zocket.NoData]

var bumped = zocket.Event[counter]("bumped")

// testActor: "bump" counts and announces it, "stream" sends the chunks
// 1..n, "fail" fails, "hang" answers only when release is closed.
func testActor(release <-chan struct{}) *zocket.Actor[counter, zocket.NoData] {
	return zocket.NewActor[counter]().Methods(
		zocket.MethodNoInput("bump", func(c *testCtx) (int, error) {
			c.State.N++
			bumped.Broadcast(c, *c.State)
			return c.State.N, nil
		}),
		zocket.Method("stream", func(c *testCtx, n int) (string, error) {
			for i := 1; i <= n; i++ {
				if err := c.SendChunk(i); err != nil {
					return "", err
				}
			}
			return "done", nil
		}),
		zocket.MethodNoIO("fail", func(*testCtx) error { return errors.New("nope") }),
		zocket.MethodNoIO("hang", func(*testCtx) error {
			<-release
			return nil
		}),
	).Events(bumped)
}

// page is a tab showing an empty page of a server of testActor ("t"),
// with zocket.js at /zocket.js and the WebSocket at /ws; stop shuts the
// server down.
type page struct {
	tab  context.Context
	ws   string
	stop func()
}

func newPage(t *testing.T) *page {
	t.Helper()
	browser := browsertest.Browser(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	release := make(chan struct{})
	app := zocket.NewApp().Register("t", testActor(release))
	srv, err := wshttp.New(zocket.NewHandler(app), wshttp.Options{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/ws", srv)
	mux.Handle("/zocket.js", webclient.Handler())
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "<!doctype html><title>t</title>") })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, mux) }()
	stopped := false
	p := &page{ws: "ws://" + ln.Addr().String() + "/ws", stop: func() {
		if !stopped {
			stopped = true
			close(release)
			cancel()
			assert.NoError(t, <-done)
		}
	}}
	t.Cleanup(p.stop)
	p.tab = browsertest.Tab(t, browser)
	require.NoError(t, chromedp.Do(p.tab, chromedp.Navigate("http://"+ln.Addr().String()+"/")))
	return p
}

// run evaluates an async function body in the page, with createClient
// and the server's url in scope, and decodes what it returns.
func run[T any](t *testing.T, p *page, body string) T {
	t.Helper()
	v, err := chromedp.Run(p.tab, chromedp.Evaluate[T](`(async () => {
		const { createClient } = await import("/zocket.js");
		const url = `+browsertest.Quote(p.ws)+`;
		`+body+`
	})()`, chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	return v
}

// failure is the JS snippet that returns the message a call rejects with.
const failure = `.then(() => "resolved", (e) => e.message)`

func TestClient_StreamedChunksArriveBeforeTheResult(t *testing.T) {
	p := newPage(t)
	got := run[[]any](t, p, `
		const c = createClient({ url });
		const seen = [];
		const result = await c.t("a").stream(3, { onChunk: (x) => seen.push(x) });
		c.$close();
		return [...seen, result];`)
	assert.Equal(t, []any{1.0, 2.0, 3.0, "done"}, got)
}

func TestClient_RejectsWithTheTypeScriptClientsMessages(t *testing.T) {
	p := newPage(t)
	got := run[map[string]string](t, p, `
		const c = createClient({ url, rpcTimeout: 200 });
		const h = c.t("a");
		const out = {
			server: await h.fail()`+failure+`,
			unknown: await h.nosuch()`+failure+`,
			timeout: await h.hang()`+failure+`,
		};
		c.$close();
		out.closed = await h.bump()`+failure+`;
		const never = createClient({ url: "ws://127.0.0.1:1", rpcTimeout: 100 });
		out.notReady = await never.t("a").bump()`+failure+`;
		never.$close();
		return out;`)
	assert.Equal(t, map[string]string{
		"server":   "nope",
		"unknown":  "Unknown method: nosuch",
		"timeout":  `RPC "hang" timed out after 200ms`,
		"closed":   "WebSocket client is closed",
		"notReady": "WebSocket was not ready within 100ms",
	}, got)
}

func TestClient_HandlesShareStateAndEventsUntilReleased(t *testing.T) {
	p := newPage(t)
	got := run[map[string]any](t, p, `
		const c = createClient({ url });
		const h = c.t("a");
		const events = [];
		h.on("bumped", (e) => events.push(e.n));
		const states = [];
		const twoBumps = new Promise((resolve) => h.state.subscribe((s) => { states.push(s.n); if (s.n === 2) resolve(); }));
		await h.bump();
		const second = await h.bump();
		await twoBumps;
		const other = c.t("a");
		const shared = other.state.getSnapshot();
		h.meta.dispose();
		h.meta.dispose(); // a second dispose of one handle does nothing
		const again = c.t("a");
		const reacquired = again.state.getSnapshot(); // same turn: kept
		other.meta.dispose();
		again.meta.dispose();
		await new Promise((resolve) => setTimeout(resolve, 0));
		const afterTeardown = c.t("a").state.getSnapshot();
		c.$close();
		return { second, events, states, shared, reacquired, afterTeardown: afterTeardown ?? "none" };`)
	assert.Equal(t, map[string]any{
		"second":        2.0,
		"events":        []any{1.0, 2.0},
		"states":        []any{0.0, 1.0, 2.0},
		"shared":        map[string]any{"n": 2.0},
		"reacquired":    map[string]any{"n": 2.0},
		"afterTeardown": "none",
	}, got)
}

func TestClient_WithoutReconnectADropDisconnects(t *testing.T) {
	p := newPage(t)
	run[bool](t, p, `
		window.c = createClient({ url, reconnect: false });
		await window.c.connection.ready;
		return true;`)
	p.stop()
	require.NoError(t, browsertest.Until(p.tab, `window.c.$status === "disconnected"`))
	got := run[string](t, p, `return await window.c.t("a").bump()`+failure+`;`)
	assert.Equal(t, "WebSocket is not connected", got)
}
