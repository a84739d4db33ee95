package natscluster_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/internal/testsupport/poll"
	"github.com/zocket-go/zocket/internal/testsupport/wstest"
)

// A gateway's batcher keeps the room of its largest fan-out; once the last
// of the gateway's sessions closed the runtime forgets it, so the batchers
// of gateways that restarted (new ids) do not pile up.
func TestRuntime_ForgetsAGatewaysBatcherWhenItsLastSessionCloses(t *testing.T) {
	c := startCluster(t, member())
	a, b := wstest.DialWelcome(t, c.wsURL), wstest.DialWelcome(t, c.wsURL)
	a.MustCall("room", "keep", "say", map[string]any{"text": "a"})
	b.MustCall("room", "keep", "say", map[string]any{"text": "b"})
	require.Equal(t, 1, c.runtime.GatewayBatchers())

	a.Close()
	poll.Until(t, func() bool { return c.runtime.Sessions() == 1 }, "runtime closed the first session")
	require.Equal(t, 1, c.runtime.GatewayBatchers(), "the gateway's other session still uses it")

	b.Close()
	poll.Until(t, func() bool { return c.runtime.Sessions() == 0 }, "runtime closed the second session")
	require.Equal(t, 0, c.runtime.GatewayBatchers())

	again := wstest.DialWelcome(t, c.wsURL) // a new batcher for the gateway's next session
	again.MustCall("room", "keep", "say", map[string]any{"text": "again"})
	require.Equal(t, 1, c.runtime.GatewayBatchers())
}
