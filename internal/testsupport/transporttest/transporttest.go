// Package transporttest is the contract every zocket WebSocket transport
// meets, as tests over real sockets: invalid options are refused, origins
// and authentication are checked before the upgrade, slow consumers are
// closed with 1008 at either bound of the outbound queue (frames, bytes),
// state frames are refused from the queue's high-water mark without
// closing and OnDrained callbacks run once it drains or closes
// (zocket.StateQueuer), the server's Queues report what waits in them,
// dead peers are found by pings, shutdown says 1001,
// Serve never closes the App and cleans up after a failed listener,
// goroutines do not leak, frames of every size arrive intact, a slow method
// does not block reading. transport/wshttp and transport/wsepoll both
// run it:
//
//	transporttest.Run(t, func(h *zocket.Handler, opts wscore.Options) (transporttest.Server, error) {
//		... a server for h configured from opts (an error for invalid ones)
//	})
package transporttest

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/internal/testsupport/wstest"
	"github.com/zocket-go/zocket/transport/wscore"
)

// Server is what the contract asks of a transport's server.
type Server interface {
	// Serve serves ln until ctx ends, with the meaning of wscore.Serve.
	Serve(ctx context.Context, ln net.Listener) error
	// Shutdown closes every connection with 1001 and refuses new ones.
	Shutdown(ctx context.Context) error
	// Len returns the number of open connections.
	Len() int
	// Conn returns the server side of the open connection with the client
	// id, nil when there is none: the contract drives the outbound queue
	// through it (zocket.Flusher, zocket.StateQueuer).
	Conn(clientID string) zocket.Connection
	// Queues returns the open connections' outbound queues in aggregate.
	Queues() wscore.QueueStats
}

// NewServer returns a transport's server feeding h, configured from opts;
// invalid opts are an error.
type NewServer func(h *zocket.Handler, opts wscore.Options) (Server, error)

// Run runs every contract test as a subtest.
func Run(t *testing.T, newServer NewServer) {
	for _, c := range contract {
		t.Run(c.name, func(t *testing.T) { c.run(t, harness{newServer}) })
	}
}

// harness starts the transport's servers for a contract test.
type harness struct{ newServer NewServer }

// start serves app with opts on a loopback listener until t ends, and
// returns the server and its ws:// URL.
func (h harness) start(t *testing.T, app *zocket.App, opts wscore.Options) (Server, string) {
	t.Helper()
	return h.startHandler(t, zocket.NewHandler(app), opts)
}

// startHandler is start for a Handler the test keeps.
func (h harness) startHandler(t *testing.T, zh *zocket.Handler, opts wscore.Options) (Server, string) {
	t.Helper()
	s, err := h.newServer(zh, opts)
	require.NoError(t, err)
	return s, wstest.Serve(t, func(ctx context.Context, ln net.Listener, _ *slog.Logger) error { return s.Serve(ctx, ln) })
}

var contract = []struct {
	name string
	run  func(*testing.T, harness)
}{
	{"InvalidOptionsAreRefused", invalidOptionsAreRefused},
	{"SlowConsumerIsClosedOthersUnaffected", slowConsumerIsClosedOthersUnaffected},
	{"DeadPeerDetectedByPing", deadPeerDetectedByPing},
	{"LivePeerAnswersPingsAndStays", livePeerAnswersPingsAndStays},
	{"AnswerNotHeldBehindAControlFrame", answerNotHeldBehindAControlFrame},
	{"OriginsSameOriginByDefault", originsSameOriginByDefault},
	{"RefusedOriginIsLoggedWithTheOptionThatAllowsIt", refusedOriginIsLogged},
	{"AuthenticateHook", authenticateHook},
	{"ReadLimitClosesWith1009", readLimitClosesWith1009},
	{"ShutdownClosesWithGoingAwayAndRefusesNewConnections", shutdownClosesWithGoingAway},
	{"ServeDoesNotCloseTheApp", serveDoesNotCloseTheApp},
	{"ServeShutsDownWhenTheListenerFails", serveShutsDownWhenTheListenerFails},
	{"NoGoroutineLeak", noGoroutineLeak},
	{"FrameSizesRoundTrip", frameSizesRoundTrip},
	{"SlowInlineMethodDoesNotBlockReading", slowInlineMethodDoesNotBlockReading},
	{"SlowInlineMethodDoesNotBlockOtherConnections", slowInlineMethodDoesNotBlockOthers},
	{"FramesSurvivePartialWrites", framesSurvivePartialWrites},
	{"DisconnectClosesWithPolicyViolation", disconnectClosesWithPolicyViolation},
	{"StateFramesRefusedAtHighWaterWithoutClosing", stateFramesRefusedAtHighWaterWithoutClosing},
	{"OnDrainedRunsWhenTheConnectionCloses", onDrainedRunsWhenTheConnectionCloses},
	{"ByteBoundClosesASlowConsumer", byteBoundClosesASlowConsumer},
	{"PausedSubscriberIsResynchronisedNotClosed", pausedSubscriberIsResynchronised},
	{"FrameOverTheByteBoundStillGoesOut", frameOverTheByteBoundStillGoesOut},
	{"QueuesReportWhatWaitsForAClient", queuesReportWhatWaitsForAClient},
}

// BlobState is the state of the contract's test actor.
type BlobState struct {
	Blobs []string `json:"blobs"`
	Seen  []string `json:"seen"`
	Last  string   `json:"last"`
	Sets  int      `json:"sets"`
}

type size struct {
	N int `json:"n"`
}

// Shouted is the event of the contract's test actor: n bytes of text.
var Shouted = zocket.Event[string]("shouted")

// App returns the contract's app, built with opts: actor "blob" with
// add({n}) (appends n bytes to the state), echoSize({n}) (returns n
// bytes), shout({n}) (broadcasts Shouted with n bytes), hold() (returns at
// once here; see holdingApp), who() (the caller's identity), and
// onConnect/onDisconnect hooks that record client ids in Seen ("gone:" + id
// when it leaves).
func App(opts ...zocket.Option) *zocket.App { return newApp(nil, opts...) }

// gate holds the calls of method hold until the test lets them go.
type gate struct {
	entered chan struct{} // a call of hold started
	release chan struct{} // lets one call of hold return
	done    <-chan struct{}
}

// holdingApp returns App whose method hold announces each call on the
// gate's entered and returns when the test sends on its release, or ends.
func holdingApp(t *testing.T) (*zocket.App, *gate) {
	g := &gate{entered: make(chan struct{}), release: make(chan struct{}), done: t.Context().Done()}
	return newApp(g), g
}

// awaitEntered waits for a call of hold to start, failing the test after
// wstest.Patience.
func (g *gate) awaitEntered(t *testing.T) {
	t.Helper()
	select {
	case <-g.entered:
	case <-time.After(wstest.Patience):
		t.Fatalf("hold was not called within %v", wstest.Patience)
	}
}

// hold runs inside the method hold.
func (g *gate) hold() {
	if g == nil {
		return
	}
	select {
	case g.entered <- struct{}{}:
	case <-g.done:
		return
	}
	select {
	case <-g.release:
	case <-g.done:
	}
}

func newApp(g *gate, opts ...zocket.Option) *zocket.App {
	return zocket.NewApp(opts...).Register("blob", zocket.NewActor[BlobState]().Methods(
		zocket.MethodNoResult("add", func(c *zocket.Context[BlobState, zocket.NoData], in size) error {
			c.State.Blobs = append(c.State.Blobs, strings.Repeat("x", in.N))
			return nil
		}),
		zocket.MethodNoResult("set", func(c *zocket.Context[BlobState, zocket.NoData], in size) error {
			c.State.Sets++
			c.State.Last = fmt.Sprintf("%09d", c.State.Sets) + strings.Repeat("v", in.N)
			return nil
		}),
		zocket.Method("echoSize", func(c *zocket.Context[BlobState, zocket.NoData], in size) (string, error) {
			return strings.Repeat("y", in.N), nil
		}),
		zocket.MethodNoResult("shout", func(c *zocket.Context[BlobState, zocket.NoData], in size) error {
			Shouted.Broadcast(c, strings.Repeat("z", in.N))
			return nil
		}),
		zocket.MethodNoIO("hold", func(*zocket.Context[BlobState, zocket.NoData]) error {
			g.hold()
			return nil
		}),
		zocket.MethodNoInput("get", func(c *zocket.Context[BlobState, zocket.NoData]) (BlobState, error) {
			return *c.State, nil
		}),
		zocket.MethodNoInput("who", func(c *zocket.Context[BlobState, zocket.NoData]) (zocket.Identity, error) {
			return c.Identity, nil
		}),
	).Events(Shouted).OnConnect(func(c *zocket.Lifecycle[BlobState]) error {
		c.State.Seen = append(c.State.Seen, c.ClientID)
		return nil
	}).OnDisconnect(func(c *zocket.Lifecycle[BlobState]) error {
		c.State.Seen = append(c.State.Seen, "gone:"+c.ClientID)
		return nil
	}))
}
