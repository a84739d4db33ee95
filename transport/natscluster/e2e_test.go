package natscluster_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/client"
	"github.com/zocket-go/zocket/internal/natsserver"
	"github.com/zocket-go/zocket/internal/testsupport/poll"
	"github.com/zocket-go/zocket/internal/testsupport/wstest"
	"github.com/zocket-go/zocket/transport/natscluster"
)

var scope = natscluster.Namespace{WorkspaceID: "ws-1", ProjectID: "prj-1"}

// --- the test app ---

type Room struct {
	Messages []string `json:"messages"`
	Seen     []string `json:"seen"`
}

type Text struct {
	Text string `json:"text" validate:"required"`
}

type Who struct {
	UserID  string            `json:"userId"`
	Claims  map[string]any    `json:"claims"`
	Scope   map[string]string `json:"scope"`
	Client  string            `json:"clientId"`
	Checked bool              `json:"checked"`
}

type authCtx struct{ Checked bool }

var (
	said = zocket.Event[Text]("said")
	// the middleware sees the user id and claims from the authorization
	chain = zocket.Use(func(_ context.Context, r zocket.Request[zocket.NoData]) (authCtx, error) {
		if r.Identity.Claims["role"] == "banned" {
			return authCtx{}, &zocket.CallError{Message: "banned"}
		}
		return authCtx{Checked: r.Identity.UserID != ""}, nil
	})
	say = zocket.Method("say", func(c *zocket.Context[Room, authCtx], in Text) (int, error) {
		c.State.Messages = append(c.State.Messages, in.Text)
		said.Broadcast(c, in)
		return len(c.State.Messages), nil
	})
	whoAmI = zocket.MethodNoInput("whoAmI", func(c *zocket.Context[Room, authCtx]) (Who, error) {
		return Who{UserID: c.Identity.UserID, Claims: c.Identity.Claims, Scope: c.Identity.Namespace, Client: c.ClientID, Checked: c.Data.Checked}, nil
	})
	nap = zocket.MethodNoResult("nap", func(c *zocket.Context[Room, authCtx], in struct {
		Ms int `json:"ms"`
	}) error {
		time.Sleep(time.Duration(in.Ms) * time.Millisecond)
		return nil
	})
)

// newApp returns the test app; disconnects counts onDisconnect.
func newApp(disconnects *atomic.Int64) *zocket.App {
	return zocket.NewApp().Register("room", zocket.NewActorWith[Room](chain).
		Methods(say, whoAmI, nap).Events(said).
		OnConnect(func(c *zocket.Lifecycle[Room]) error {
			c.State.Seen = append(c.State.Seen, "hi:"+c.ClientID)
			return nil
		}).
		OnDisconnect(func(c *zocket.Lifecycle[Room]) error {
			disconnects.Add(1)
			c.State.Seen = append(c.State.Seen, "bye:"+c.ClientID)
			return nil
		}))
}

// --- the cluster under test ---

type cluster struct {
	t       *testing.T
	srv     *server.Server
	url     string // NATS
	runtime *natscluster.Runtime
	rnc     *nats.Conn // the runtime's connection
	app     *zocket.App
	gateway *natscluster.Gateway
	wsURL   string
	gone    atomic.Int64
}

func startNATS(t *testing.T) *server.Server {
	t.Helper()
	s, err := natsserver.Start(natsserver.Options{StoreDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s
}

func connect(t *testing.T, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	return nc
}

// startCluster runs NATS, a runtime and a gateway with auth.
func startCluster(t *testing.T, auth natscluster.Authorizer) *cluster {
	t.Helper()
	c := &cluster{t: t}
	c.srv = startNATS(t)
	c.url = c.srv.ClientURL()
	c.startRuntime()
	c.gateway, c.wsURL = startGateway(t, c.url, auth)
	return c
}

func (c *cluster) startRuntime() {
	t := c.t
	c.app = newApp(&c.gone)
	c.rnc = connect(t, c.url)
	rt, err := natscluster.NewRuntime(c.rnc, c.app, natscluster.RuntimeOptions{Namespace: scope, DeploymentID: "dpl_1", Logger: testLogger()})
	require.NoError(t, err)
	require.NoError(t, rt.Start(t.Context()))
	c.runtime = rt
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		rt.Stop(ctx)
		c.app.Close(ctx)
	})
}

func startGateway(t *testing.T, natsURL string, auth natscluster.Authorizer) (*natscluster.Gateway, string) {
	t.Helper()
	g, err := natscluster.NewGateway(t.Context(), connect(t, natsURL), natscluster.GatewayOptions{Authorizer: auth, Logger: testLogger()})
	require.NoError(t, err)
	return g, serveGateway(t, g)
}

// serveGateway serves g on a loopback HTTP server until t ends.
func serveGateway(t *testing.T, g *natscluster.Gateway) string {
	t.Helper()
	srv := httptest.NewServer(g)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		g.Shutdown(ctx)
		srv.Close()
	})
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

func member() natscluster.StaticAuthorizer {
	user := "user-123"
	return natscluster.StaticAuthorizer{Namespace: scope, UserID: &user, Claims: map[string]any{"role": "member"}}
}

// --- tests ---

// RPC, events, state sync, lifecycle hooks and middleware, through gateway,
// JetStream and runtime, with the Go client.
func TestEndToEndWithTheGoClient(t *testing.T) {
	c := startCluster(t, member())
	ctx, cancel := context.WithTimeout(t.Context(), poll.Deadline) // bounds a hang only
	defer cancel()

	alice, err := client.Dial(ctx, c.wsURL, client.Options{})
	require.NoError(t, err)
	defer alice.Close()
	bob, err := client.Dial(ctx, c.wsURL, client.Options{})
	require.NoError(t, err)
	defer bob.Close()

	// The gateway's welcome arrives at once, with the session id.
	poll.Until(t, func() bool { return alice.ClientID() != "" && bob.ClientID() != "" }, "welcomed both clients")
	assert.Len(t, alice.ClientID(), 36, "a UUID")

	heard := make(chan Text, 10)
	bh := bob.Actor("room", "lobby")
	client.OnEvent(bh, said, func(p Text) { heard <- p })
	states := make(chan Room, 10)
	client.OnState(bh, func(s Room) { states <- s })
	// bob's snapshot proves his subscriptions reached the runtime (his
	// event:sub went first, on the same ordered subject): only now can
	// alice's event reach him.
	waitState(t, states, func(s Room) bool { return len(s.Messages) == 0 })

	ah := alice.Actor("room", "lobby")
	n, err := client.Call(ctx, ah, say, Text{Text: "hello"})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	select {
	case p := <-heard:
		assert.Equal(t, "hello", p.Text)
	case <-ctx.Done():
		t.Fatal("bob never heard the event")
	}
	waitState(t, states, func(s Room) bool { return len(s.Messages) == 1 && s.Messages[0] == "hello" })

	who, err := client.Call(ctx, ah, whoAmI, struct{}{})
	require.NoError(t, err)
	assert.Equal(t, Who{UserID: "user-123", Claims: map[string]any{"role": "member"},
		Scope: map[string]string{"workspaceId": "ws-1", "projectId": "prj-1"}, Client: alice.ClientID(), Checked: true}, who)

	_, err = client.Call(ctx, ah, say, Text{})
	assert.ErrorContains(t, err, "Validation failed", "errors come back as in single-process mode")

	// onDisconnect runs in the runtime when alice's socket closes.
	alice.Close()
	poll.Until(t, func() bool { return c.gone.Load() >= 1 }, "ran onDisconnect")
	waitState(t, states, func(s Room) bool {
		for _, x := range s.Seen {
			if strings.HasPrefix(x, "bye:") {
				return true
			}
		}
		return false
	})
}

func waitState(t *testing.T, states <-chan Room, ok func(Room) bool) {
	t.Helper()
	deadline := time.After(poll.Deadline) // bounds a hang only
	for {
		select {
		case s := <-states:
			if ok(s) {
				return
			}
		case <-deadline:
			t.Fatal("state never matched")
		}
	}
}

// Instances of one actor type run in parallel: a slow call on one
// does not hold up a call to another.
func TestInstancesOfOneTypeRunInParallel(t *testing.T) {
	c := startCluster(t, member())
	w := wstest.DialWelcome(t, c.wsURL)
	w.MustCall("room", "slow", "whoAmI", nil)
	slow := w.RPC("room", "slow", "nap", map[string]any{"ms": 500})
	began := time.Now()
	fast := w.RPC("room", "fast", "whoAmI", nil)
	first := w.Until(func(f wstest.Frame) bool { return f.Type() == "rpc:result" })
	assert.Equal(t, fast, first[len(first)-1]["id"])
	assert.Less(t, time.Since(began), 400*time.Millisecond)
	w.Until(func(f wstest.Frame) bool { return f.Type() == "rpc:result" && f["id"] == slow })
}

// An rpc whose actor or id cannot be a subject token gets an answer from
// the gateway instead of a timeout.
func TestInvalidSubjectTokensAreAnswered(t *testing.T) {
	c := startCluster(t, member())
	w := wstest.DialWelcome(t, c.wsURL)
	for _, tc := range []struct{ actor, id string }{{"ro.om", "x"}, {"room", "a b"}, {"room", ""}, {"room", "a..b"}, {"room", "*"}} {
		r := w.Call(tc.actor, tc.id, "whoAmI", nil)
		assert.Contains(t, r["error"], "Invalid actor or actorId", "%q/%q", tc.actor, tc.id)
	}
	// Dots inside an id are fine, as in TypeScript.
	assert.Equal(t, "user-123", w.MustCall("room", "a.b", "whoAmI", nil).(map[string]any)["userId"])
}

func TestGatewayHealthAndUpgradeRequired(t *testing.T) {
	c := startCluster(t, member())
	httpURL := "http" + strings.TrimPrefix(c.wsURL, "ws")
	resp, err := http.Get(httpURL + "/health")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp, err = http.Get(httpURL + "/anything")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUpgradeRequired, resp.StatusCode)

	rec := httptest.NewRecorder()
	c.runtime.HealthHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/health", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"ok":true,"deploymentId":"dpl_1","actorTypes":["room"],"deployCount":1,"workspaceId":"ws-1","projectId":"prj-1","outboundFailures":0}`, rec.Body.String())
}

type health struct {
	code int
	body string
}

func healthOf(rt *natscluster.Runtime) health {
	rec := httptest.NewRecorder()
	rt.HealthHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/health", nil))
	return health{rec.Code, rec.Body.String()}
}

// testLogger logs to stderr when ZOCKET_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("ZOCKET_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
