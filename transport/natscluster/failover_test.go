package natscluster_test

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/client"
	"github.com/zocket-go/zocket/internal/natsserver"
	"github.com/zocket-go/zocket/internal/testsupport/poll"
)

// firstReachable dials the first gateway that answers.
func firstReachable(urls ...string) client.Dialer {
	dial := client.CoderDialer(nil, 1<<20)
	return func(ctx context.Context, _ string) (client.Socket, error) {
		var err error
		for _, u := range urls {
			var s client.Socket
			if s, err = dial(ctx, u); err == nil {
				return s, nil
			}
		}
		return nil, err
	}
}

// One of two gateways stops: its clients reconnect through the other,
// resubscribe, and go on; the runtime ran onDisconnect for the old session.
func TestGatewayFailover(t *testing.T) {
	c := startCluster(t, member())
	_, urlB := startGateway(t, c.url, member())
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	cl, err := client.Dial(ctx, c.wsURL, client.Options{Dial: firstReachable(c.wsURL, urlB), ReconnectDelay: func(int) time.Duration { return 20 * time.Millisecond }})
	require.NoError(t, err)
	defer cl.Close()
	h := cl.Actor("room", "failover")
	states := make(chan Room, 20)
	client.OnState(h, func(s Room) { states <- s })
	_, err = client.Call(ctx, h, say, Text{Text: "via A"})
	require.NoError(t, err)
	first := cl.ClientID()

	sctx, scancel := context.WithTimeout(ctx, 5*time.Second)
	require.NoError(t, c.gateway.Shutdown(sctx))
	scancel()
	poll.Until(t, func() bool { return cl.ClientID() != "" && cl.ClientID() != first }, "reconnected with a new session")
	_, err = client.Call(ctx, h, say, Text{Text: "via B"})
	require.NoError(t, err)
	waitState(t, states, func(s Room) bool { return len(s.Messages) == 2 && s.Messages[1] == "via B" })
	poll.Until(t, func() bool { return c.gone.Load() == 1 }, "onDisconnect for the session on A")
}

// NATS restarts mid-run (the streams, in memory, are gone): the runtime
// restarts its consume loop, the gateway re-creates the streams, clients
// reconnect, and no call that got a result was lost or executed twice.
func TestNATSRestart(t *testing.T) {
	c := startCluster(t, member())
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cl, err := client.Dial(ctx, c.wsURL, client.Options{RPCTimeout: 2 * time.Second, ReconnectDelay: func(int) time.Duration { return 20 * time.Millisecond }})
	require.NoError(t, err)
	defer cl.Close()
	h := cl.Actor("room", "restart")

	var mu sync.Mutex
	var answered []string // texts whose call got a result
	call := func(text string) bool {
		cctx, ccancel := context.WithTimeout(ctx, 2*time.Second)
		defer ccancel()
		if _, err := client.Call(cctx, h, say, Text{Text: text}); err != nil {
			return false
		}
		mu.Lock()
		answered = append(answered, text)
		mu.Unlock()
		return true
	}
	for i := range 5 {
		require.True(t, call("before-"+strconv.Itoa(i)))
	}

	u, err := url.Parse(c.url)
	require.NoError(t, err)
	port, _ := strconv.Atoi(u.Port())
	c.srv.Shutdown()
	c.srv.WaitForShutdown()
	srv, err := natsserver.Start(natsserver.Options{Port: port, StoreDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })

	// Calls fail while everything recovers, then succeed again.
	deadline := time.Now().Add(20 * time.Second)
	ok := 0
	for i := 0; ok < 5; i++ {
		require.True(t, time.Now().Before(deadline), "calls never succeeded again")
		if call(fmt.Sprintf("after-%d", i)) {
			ok++
		} else {
			time.Sleep(50 * time.Millisecond)
		}
	}
	w := c.app // the runtime's state is in memory and survived
	_ = w
	snap := roomState(t, cl, "restart")
	mu.Lock()
	defer mu.Unlock()
	for _, text := range answered {
		n := 0
		for _, m := range snap.Messages {
			if m == text {
				n++
			}
		}
		assert.Equal(t, 1, n, "%q was answered, so it ran exactly once", text)
	}
}

// roomState reads an instance's state through a fresh handle.
func roomState(t *testing.T, cl *client.Client, id string) Room {
	t.Helper()
	h := cl.Actor("room", id)
	defer h.Release()
	got := make(chan Room, 1)
	off := client.OnState(h, func(s Room) {
		select {
		case got <- s:
		default:
		}
	})
	defer off()
	select {
	case s := <-got:
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("no state")
		return Room{}
	}
}
