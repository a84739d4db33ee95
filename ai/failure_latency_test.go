package ai_test

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/ai"
	"github.com/zocket-go/zocket/ai/replay"
)

// A failed run does not hold the conversation's mailbox for a streaming
// interval: it returns at once, with the failed mark committed.
func TestAgent_AFailedRunReturnsWithoutWaitingOutTheStreamingInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := replay.Script(replay.Turn{Err: errors.New("down")})
		tc := newTestChat(t, p, func(a *ai.Agent[chatState, zocket.NoData]) { a.FlushEvery = time.Minute })
		start := time.Now()
		_, err := tc.send.Invoke(t.Context(), tc.app, "chat", "c1", ai.Prompt{Text: "hi"})
		require.Error(t, err)
		assert.Less(t, time.Since(start), time.Second, "on the bubble's clock, only a sleep makes time pass")

		st := stateOf(t, tc, "c1")
		require.Len(t, st.Conv.Messages, 2)
		assert.Equal(t, ai.StatusFailed, st.Conv.Messages[1].Status)
		assert.Equal(t, "ai: model: down", st.Conv.Messages[1].Error)
	})
}
