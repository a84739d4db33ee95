package transporttest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/protocol"
	"github.com/zocket-go/zocket/statestore"
	"github.com/zocket-go/zocket/transport/wscore"
)

// A subscriber that stops reading while 10,000 patches of 4 KB are sent
// stays connected: its state frames are held back from half the queue's
// bound, and once it reads again it gets what it missed from the history
// or a snapshot, far fewer bytes than the patches, and ends with the
// server's state.
func pausedSubscriberIsResynchronised(t *testing.T, h harness) {
	const sets, size = 10_000, 4000
	app := App()
	_, url := h.start(t, app, wscore.Options{SendQueue: 64, PingInterval: -1})
	p := dialPaused(t, url)
	p.send(`{"type":"state:sub","actor":"blob","actorId":"r","version":0}`)
	store := statestore.New()
	apply := func(raw string) protocol.Message {
		m, err := protocol.Parse([]byte(raw))
		require.NoError(t, err)
		switch m.Type {
		case protocol.TypeStateSnapshot:
			require.NoError(t, store.ApplyVersionedSnapshot(m.State, m.Version, m.Epoch))
		case protocol.TypeStatePatch:
			out, err := store.ApplyVersionedPatch(m.Patches, m.Version, m.Epoch)
			require.NoError(t, err)
			require.Equal(t, statestore.Applied, out, "every patch follows the state")
		}
		return m
	}
	apply(p.awaitText()) // the snapshot

	input, _ := json.Marshal(map[string]int{"n": size})
	for range sets {
		_, err := app.Invoke(context.Background(), "blob", "r", "set", input)
		require.NoError(t, err)
	}
	var last uint64 // the server's version now
	for _, in := range app.Instances() {
		last = in.Version
	}
	read := 0
	for {
		f := p.next()
		require.NotEqual(t, ws.OpClose, f.Header.OpCode, "the paused subscriber is not closed")
		if f.Header.OpCode != ws.OpText {
			continue
		}
		read += len(f.Payload)
		if m := apply(string(f.Payload)); m.HasVersion && m.Version == last {
			break
		}
	}
	t.Logf("paused through %d patches of %d bytes: read %d bytes", sets, size, read)
	require.Less(t, read, sets*size/4, "far fewer bytes than the patches")
	want, err := app.Invoke(context.Background(), "blob", "r", "get", nil)
	require.NoError(t, err)
	require.JSONEq(t, string(want), string(store.JSON()), "the server's state")
}
