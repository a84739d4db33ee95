package transporttest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/internal/testsupport/wstest"
	"github.com/zocket-go/zocket/transport/wscore"
)

// Queues counts every open connection, the frames and bytes queued for a
// client that does not read, and its queue as the largest; once the
// client has read them, the queues are empty again.
func queuesReportWhatWaitsForAClient(t *testing.T, h harness) {
	s, url := h.start(t, App(), wscore.Options{SendQueue: 8, SendQueueBytes: 1 << 30, PingInterval: -1})
	wstest.DialWelcome(t, url) // keeps up: nothing waits for it
	p := dialPaused(t, url)
	q := p.queuer(s)

	n := fillUntilRefused(t, q)
	queued := n * bigFrame
	awaitQueues(t, s, wscore.QueueStats{Conns: 2, Frames: n, Bytes: queued, MaxFrames: n, MaxBytes: queued})

	for range n {
		require.Len(t, p.next().Payload, bigFrame)
	}
	awaitQueues(t, s, wscore.QueueStats{Conns: 2})
}

// awaitQueues waits until s.Queues() is want: a frame the client has read
// is uncounted just after the server's write returns.
func awaitQueues(t *testing.T, s Server, want wscore.QueueStats) {
	t.Helper()
	deadline := time.Now().Add(wstest.Patience)
	for got := s.Queues(); got != want; got = s.Queues() {
		if time.Now().After(deadline) {
			assert.Equal(t, want, got, "Queues, after %v", wstest.Patience)
			t.FailNow()
		}
		time.Sleep(5 * time.Millisecond)
	}
}
