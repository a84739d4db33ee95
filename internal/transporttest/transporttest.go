// Package transporttest is the contract every zocket WebSocket transport
// meets, as tests over real sockets: slow consumers are closed with 1008,
// dead peers are found by pings, origins and authentication are checked
// before the upgrade, shutdown says 1001, goroutines do not leak, frames
// of every size arrive intact, a slow method does not block reading.
// transport/websocket and transport/gobwas both run it:
//
//	transporttest.Run(t, func(t *testing.T, app *zocket.App, cfg transporttest.Config) (transporttest.Server, string) {
//		... start a server for app configured from cfg; return it and its ws:// URL
//	})
package transporttest

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/zocket-go/zocket"
)

// Config holds the settings the contract needs, for the transport to map
// onto its own options; zero values mean the transport's defaults.
type Config struct {
	SendQueue      int
	PingInterval   time.Duration
	PingTimeout    time.Duration
	ReadLimit      int64
	OriginPatterns []string
	Authenticate   func(*http.Request) (zocket.Identity, error)
}

// Server is what the contract asks of a running server.
type Server interface {
	Len() int
	Shutdown(ctx context.Context) error
}

// Start starts a server for app configured from cfg, stopped when t ends,
// and returns it with its ws:// URL.
type Start func(t *testing.T, app *zocket.App, cfg Config) (Server, string)

// Run runs every contract test as a subtest.
func Run(t *testing.T, start Start) {
	for _, c := range contract {
		t.Run(c.name, func(t *testing.T) { c.run(t, start) })
	}
}

var contract = []struct {
	name string
	run  func(*testing.T, Start)
}{
	{"SlowConsumerIsClosedOthersUnaffected", slowConsumerIsClosedOthersUnaffected},
	{"DeadPeerDetectedByPing", deadPeerDetectedByPing},
	{"LivePeerAnswersPingsAndStays", livePeerAnswersPingsAndStays},
	{"OriginsSameOriginByDefault", originsSameOriginByDefault},
	{"AuthenticateHook", authenticateHook},
	{"ReadLimitClosesWith1009", readLimitClosesWith1009},
	{"ShutdownClosesWithGoingAwayAndRefusesNewConnections", shutdownClosesWithGoingAway},
	{"NoGoroutineLeak", noGoroutineLeak},
	{"FrameSizesRoundTrip", frameSizesRoundTrip},
	{"SlowInlineMethodDoesNotBlockReading", slowInlineMethodDoesNotBlockReading},
	{"SlowInlineMethodDoesNotBlockOtherConnections", slowInlineMethodDoesNotBlockOthers},
	{"FramesSurvivePartialWrites", framesSurvivePartialWrites},
}

// BlobState is the state of the contract's test actor.
type BlobState struct {
	Blobs []string `json:"blobs"`
	Seen  []string `json:"seen"`
}

type size struct {
	N int `json:"n"`
}

// App returns the contract's app, built with opts: actor "blob" with
// add({n}) (appends n bytes to the state), echoSize({n}) (returns n
// bytes), sleep({n}) (n ms),
// who() (the caller's identity), and onConnect/onDisconnect hooks that
// record client ids in Seen ("gone:" + id when it leaves).
func App(opts ...zocket.Option) *zocket.App {
	return zocket.NewApp(opts...).Register("blob", zocket.NewActor[BlobState]().Methods(
		zocket.MethodNoResult("add", func(c *zocket.Context[BlobState, zocket.NoData], in size) error {
			c.State.Blobs = append(c.State.Blobs, strings.Repeat("x", in.N))
			return nil
		}),
		zocket.Method("echoSize", func(c *zocket.Context[BlobState, zocket.NoData], in size) (string, error) {
			return strings.Repeat("y", in.N), nil
		}),
		zocket.MethodNoResult("sleep", func(c *zocket.Context[BlobState, zocket.NoData], in size) error {
			time.Sleep(time.Duration(in.N) * time.Millisecond)
			return nil
		}),
		zocket.MethodNoInput("who", func(c *zocket.Context[BlobState, zocket.NoData]) (zocket.Identity, error) {
			return c.Identity, nil
		}),
	).OnConnect(func(c *zocket.Lifecycle[BlobState]) error {
		c.State.Seen = append(c.State.Seen, c.ClientID)
		return nil
	}).OnDisconnect(func(c *zocket.Lifecycle[BlobState]) error {
		c.State.Seen = append(c.State.Seen, "gone:"+c.ClientID)
		return nil
	}))
}
