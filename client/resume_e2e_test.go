package client_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/client"
	"github.com/zocket-go/zocket/internal/testsupport/poll"
	"github.com/zocket-go/zocket/protocol"
	"github.com/zocket-go/zocket/storage/memstore"
	"github.com/zocket-go/zocket/transport/wshttp"
)

type bigList struct {
	Items []string `json:"items"`
}

var touchItem = zocket.MethodNoResult("touch", func(c *zocket.Context[bigList, zocket.NoData], i int) error {
	c.State.Items[i] += "!"
	return nil
})

func bigApp(store zocket.Storage, n int) *zocket.App {
	return zocket.NewApp(zocket.WithStorage(store)).Register("list", zocket.NewActor[bigList]().
		Initial(func() bigList {
			items := make([]string, n)
			for i := range items {
				items[i] = fmt.Sprintf("item %06d", i)
			}
			return bigList{Items: items}
		}).Methods(touchItem))
}

// countingSocket counts the state frames and bytes a client receives.
type countingSocket struct {
	client.Socket
	counts *frameCounts
}

type frameCounts struct {
	mu        sync.Mutex
	snapshots int
	patches   int
	bytes     int
}

func (c countingSocket) Read() ([]byte, error) {
	b, err := c.Socket.Read()
	if err == nil {
		if m, perr := protocol.Parse(b); perr == nil {
			c.counts.mu.Lock()
			switch m.Type {
			case protocol.TypeStateSnapshot:
				c.counts.snapshots++
			case protocol.TypeStatePatch:
				c.counts.patches++
			}
			c.counts.bytes += len(b)
			c.counts.mu.Unlock()
		}
	}
	return b, err
}

func (f *frameCounts) take() (snapshots, patches, bytes int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	snapshots, patches, bytes = f.snapshots, f.patches, f.bytes
	f.snapshots, f.patches, f.bytes = 0, 0, 0
	return
}

func serveOn(t *testing.T, addr string, app *zocket.App) (stop func()) {
	t.Helper()
	var ln net.Listener
	var err error
	poll.Until(t, func() bool { ln, err = net.Listen("tcp", addr); return err == nil }, "listening on "+addr)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		err := wshttp.Serve(ctx, ln, app, wshttp.Options{Logger: slog.New(slog.DiscardHandler)})
		done <- errors.Join(err, app.Close(context.Background()))
	}()
	return func() { cancel(); require.NoError(t, <-done) }
}

// A client of a durable instance that was restarted while it was away gets
// only the patches it missed, not the 100,000-item state again.
func TestResume_AfterAServerRestartSendsOnlyTheMissedPatches(t *testing.T) {
	const n = 100_000
	store := memstore.New()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	stop := serveOn(t, addr, bigApp(store, n))
	counts := &frameCounts{}
	dial := client.CoderDialer(nil, 64<<20)
	c := client.New("ws://"+addr, client.Options{
		ReconnectDelay: func(int) time.Duration { return 10 * time.Millisecond },
		Dial: func(ctx context.Context, url string) (client.Socket, error) {
			s, err := dial(ctx, url)
			if err != nil {
				return nil, err
			}
			return countingSocket{s, counts}, nil
		},
	})
	defer c.Close()
	h := c.Actor("list", "l")
	got := make(chan []any, 100)
	h.Subscribe(func(state any) { got <- state.(map[string]any)["items"].([]any) })
	_, err = h.Call(context.Background(), "touch", 0)
	require.NoError(t, err)
	waitFor(t, got, func(s []any) bool { return len(s) == n && s[0] == "item 000000!" })
	snapshots, _, snapshotBytes := counts.take()
	require.Equal(t, 1, snapshots)
	stop()

	app := bigApp(store, n) // the restarted server
	for i := 1; i <= 10; i++ {
		_, err := touchItem.Invoke(context.Background(), app, "list", "l", i*1000)
		require.NoError(t, err)
	}
	stop = serveOn(t, addr, app)
	defer stop()
	start := time.Now()
	waitFor(t, got, func(s []any) bool { return s[10000] == "item 010000!" })
	took := time.Since(start)
	snapshots, patches, bytes := counts.take()
	t.Logf("caught up after a restart with %d patches, %d bytes (the snapshot was %d bytes), in %v", patches, bytes, snapshotBytes, took)
	require.Zero(t, snapshots, "no snapshot")
	require.Equal(t, 10, patches)
	require.Less(t, bytes, snapshotBytes/100, "at most 1%% of the snapshot's bytes")

	// Live again: the next change arrives as a patch.
	_, err = touchItem.Invoke(context.Background(), app, "list", "l", 5)
	require.NoError(t, err)
	waitFor(t, got, func(s []any) bool { return s[5] == "item 000005!" && s[10000] == "item 010000!" })
}

func waitFor(t *testing.T, states <-chan []any, ok func([]any) bool) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case s := <-states:
			if ok(s) {
				return
			}
		case <-deadline:
			t.Fatal("the client never reached the expected state")
		}
	}
}
