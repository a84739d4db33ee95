package soak

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/internal/testsupport/poll"
	"github.com/zocket-go/zocket/transport/wsepoll"
	"github.com/zocket-go/zocket/transport/wshttp"
)

// size is one soak run's size.
type size struct {
	conns      int           // connections opened over the run
	calls      int           // calls made over the run
	open       int           // connections open at a time
	actors     int           // instances the connections spread over
	duration   time.Duration // the run's length: 0 = as fast as it goes
	transports []string
}

var sizes = map[string]size{
	"":       {conns: 100, calls: 2_000, open: 20, actors: 5},
	"medium": {conns: 1_000, calls: 100_000, open: 100, actors: 20, duration: time.Minute},
	"full":   {conns: 10_000, calls: 1_000_000, open: 1_000, actors: 100, duration: 10 * time.Minute},
}

// parseSize reads ZOCKET_SOAK: a size name, or comma-separated field=value.
func parseSize(spec string) (size, error) {
	if s, ok := sizes[spec]; ok {
		s.transports = []string{"wshttp", "wsepoll"}
		return s, nil
	}
	s := sizes[""]
	s.transports = []string{"wshttp", "wsepoll"}
	for field := range strings.SplitSeq(spec, ",") {
		k, v, _ := strings.Cut(field, "=")
		var err error
		switch k {
		case "conns":
			s.conns, err = strconv.Atoi(v)
		case "calls":
			s.calls, err = strconv.Atoi(v)
		case "open":
			s.open, err = strconv.Atoi(v)
		case "actors":
			s.actors, err = strconv.Atoi(v)
		case "duration":
			s.duration, err = time.ParseDuration(v)
		case "transports":
			s.transports = strings.Split(v, "+")
		default:
			err = fmt.Errorf("unknown field %q", k)
		}
		if err != nil {
			return size{}, fmt.Errorf("ZOCKET_SOAK %q: %w", spec, err)
		}
	}
	return s, nil
}

// soakState is the soak actor's state. Online counts the connections that
// interacted with the instance and have not closed (connect and disconnect
// hooks), so a connection the server failed to notice leaving shows.
type soakState struct {
	Bumps  int    `json:"bumps"`
	Online int    `json:"online"`
	Last   string `json:"last"`
}

type bump struct {
	By  int    `json:"by"`
	Tag string `json:"tag"`
}

// newApp returns the App under soak: one actor, "soak".
func newApp(log *slog.Logger) *zocket.App {
	type sc = zocket.Context[soakState, zocket.NoData]
	return zocket.NewApp(zocket.WithLogger(log)).Register("soak", zocket.NewActor[soakState]().
		OnConnect(func(l *zocket.Lifecycle[soakState]) error { l.State.Online++; return nil }).
		OnDisconnect(func(l *zocket.Lifecycle[soakState]) error { l.State.Online--; return nil }).
		Methods(
			zocket.Method("bump", func(c *sc, in bump) (int, error) {
				c.State.Bumps += in.By
				c.State.Last = in.Tag
				return c.State.Bumps, nil
			}),
			zocket.MethodNoInput("get", func(c *sc) (soakState, error) { return *c.State, nil }),
		))
}

// server is a soak server on a loopback port.
type server struct {
	app  *zocket.App
	url  string
	stop func() error // ends serving and waits for it
}

func startServer(t *testing.T, transport string) *server {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	log := slog.New(slog.DiscardHandler)
	app := newApp(log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		switch transport {
		case "wsepoll":
			done <- wsepoll.Serve(ctx, ln, app, wsepoll.Options{Logger: log})
		default:
			done <- wshttp.Serve(ctx, ln, app, wshttp.Options{Logger: log})
		}
	}()
	s := &server{app: app, url: "ws://" + ln.Addr().String()}
	var stopped bool
	s.stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(time.Minute):
			return fmt.Errorf("server did not stop; goroutines:\n%s", goroutineDump())
		}
	}
	t.Cleanup(func() { assert.NoError(t, s.stop()) })
	return s
}

// state reads an instance's state on the server.
func (s *server) state(ctx context.Context, id string) (soakState, error) {
	raw, err := s.app.Invoke(ctx, "soak", id, "get", nil)
	if err != nil {
		return soakState{}, fmt.Errorf("get %s: %w", id, err)
	}
	var st soakState
	return st, json.Unmarshal(raw, &st)
}

// settle polls until ok holds for the state of every instance a0..a<n-1>,
// for at most settleTimeout; its error lists the instances where it does not.
func (s *server) settle(ctx context.Context, n int, ok func(i int, st soakState) bool) error {
	var bad []string
	err := poll.Wait(ctx, settleTimeout, func() (bool, error) {
		bad = bad[:0]
		for i := range n {
			st, err := s.state(ctx, actorID(i))
			if err != nil {
				return false, err
			}
			if !ok(i, st) {
				bad = append(bad, fmt.Sprintf("%s: %+v", actorID(i), st))
			}
		}
		return len(bad) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("%w: %s", err, strings.Join(bad, "; "))
	}
	return nil
}

func actorID(i int) string { return "a" + strconv.Itoa(i) }

// settleTimeout bounds every wait for the server to catch up.
const settleTimeout = time.Minute

func TestSoak_ChurningConnectionsLeaveNothingBehind(t *testing.T) {
	sz, err := parseSize(os.Getenv("ZOCKET_SOAK"))
	require.NoError(t, err)
	for _, transport := range sz.transports {
		t.Run(transport, func(t *testing.T) { soak(t, transport, sz) })
	}
}

func soak(t *testing.T, transport string, sz size) {
	before := takeResources()
	srv := startServer(t, transport)
	ctx := t.Context()

	watchers := make([]*watcher, sz.actors)
	for i := range watchers {
		w, err := watch(ctx, srv.url, actorID(i))
		require.NoError(t, err)
		watchers[i] = w
	}
	withWatchers := takeResources()
	start := time.Now()
	tally := churn(ctx, srv.url, sz)
	elapsed := time.Since(start)
	t.Logf("%s: %d connections (%d vanished, %d with calls in flight), %d calls answered, %d abandoned, in %v (%.0f calls/s); peak goroutines %d",
		transport, tally.conns.Load(), tally.vanished.Load(), tally.inFlight.Load(), tally.answered.Load(),
		tally.abandoned.Load(), elapsed.Round(time.Millisecond), float64(tally.answered.Load())/elapsed.Seconds(), tally.peakGoroutines.Load())

	assert.Zero(t, tally.dialErrors.Load(), "connections that failed to open or subscribe")
	assert.Zero(t, tally.closeErrors.Load(), "closing handshakes that failed, the first: %v", tally.firstCloseError.Load())
	assert.Zero(t, tally.unanswered.Load(), "calls of connections that stayed, left without a result")
	assert.Zero(t, tally.failed.Load(), "calls answered with an error")
	assert.Zero(t, tally.unmatched.Load(), "results for no outstanding call (a duplicate or a stranger)")
	assert.Zero(t, tally.badPatches.Load(), "patches that did not apply to the subscriber's state")
	assert.EqualValues(t, sz.conns, tally.conns.Load(), "connections opened")
	if tally.answered.Load()+tally.abandoned.Load() < int64(sz.calls) {
		t.Errorf("calls sent: %d answered + %d abandoned, want %d", tally.answered.Load(), tally.abandoned.Load(), sz.calls)
	}

	// The server is back to where it was before the churn: every churning
	// connection's goroutines and descriptor are gone.
	during, err := settleResources(ctx, withWatchers, settleTimeout)
	assert.NoError(t, err, "while serving: resources before the churn %+v, after %+v", withWatchers, during)

	// Every instance: only its watcher is online, and the watcher's state
	// (snapshot plus patches) is the server's.
	assert.NoError(t, srv.settle(ctx, sz.actors, func(i int, st soakState) bool { return st.Online == 1 && watchers[i].equals(st) }),
		"instances whose watcher is not the only one online, or whose state differs from the watcher's")
	for i, w := range watchers {
		assert.Zero(t, w.conn.Unmatched.Load()+w.badPatches.Load(), "%s: watcher's unmatched results and bad patches", actorID(i))
	}
	for _, w := range watchers {
		require.NoError(t, w.conn.CloseGracefully())
	}
	assert.NoError(t, srv.settle(ctx, sz.actors, func(_ int, st soakState) bool { return st.Online == 0 }),
		"instances that did not notice their watcher leave")
	assert.Equal(t, sz.actors, srv.app.Size(), "instances: one per actor id used")
	require.NoError(t, srv.app.DestroyAll(ctx))
	assert.Zero(t, srv.app.Size(), "instances after DestroyAll")

	require.NoError(t, srv.stop())
	after, err := settleResources(ctx, before, settleTimeout)
	assert.NoError(t, err, "server stopped: resources before it started %+v, after %+v", before, after)
	t.Logf("%s: resources before the server %+v, with the watchers %+v, after the churn %+v, after the server %+v",
		transport, before, withWatchers, during, after)
}
