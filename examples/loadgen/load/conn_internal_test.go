package load

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/protocol"
)

// When the connection dies while a call is being written, the reader may
// fail the call before the write reports its error: done has then run, and
// Go must not also report the call as unsent (a caller would count it twice).
func TestGo_ReturnsNilWhenTheReaderFailedTheCallBeforeTheWriteFailed(t *testing.T) {
	c := &Conn{pending: map[uint64]pendingCall{}}
	c.write = func(context.Context, websocket.MessageType, []byte) error {
		c.failPending(errors.New("connection reset"))
		return errors.New("write: connection reset")
	}
	var results []string
	err := c.Go(NewRPC("a", "1", "m", nil), func(m *protocol.Message, _, _ time.Time) {
		results = append(results, m.Error)
	})
	require.NoError(t, err)
	assert.Equal(t, []string{LostMessage + ": connection reset"}, results)
}

func TestGo_ReturnsTheWriteErrorWithoutRunningDoneWhenTheCallWasStillPending(t *testing.T) {
	c := &Conn{pending: map[uint64]pendingCall{}}
	c.write = func(context.Context, websocket.MessageType, []byte) error { return errors.New("write failed") }
	err := c.Go(NewRPC("a", "1", "m", nil), func(*protocol.Message, time.Time, time.Time) {
		t.Error("done ran for a call Go reports as unsent")
	})
	require.ErrorContains(t, err, "write failed")
	assert.Empty(t, c.pending)
}
