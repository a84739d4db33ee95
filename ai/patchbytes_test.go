package ai_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/ai"
	"github.com/zocket-go/zocket/ai/replay"
	"github.com/zocket-go/zocket/client"
	"github.com/zocket-go/zocket/zockettest"
)

// published records the size of every state change sent to subscribers.
type published struct {
	zocket.NopObserver
	mu    sync.Mutex
	bytes []int
}

func (p *published) Published(_, _ string, frames, bytes int) {
	p.mu.Lock()
	p.bytes = append(p.bytes, bytes/frames)
	p.mu.Unlock()
}

func (p *published) take() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.bytes
	p.bytes = nil
	return b
}

// seed fills a conversation with n earlier messages.
var seed = zocket.MethodNoResult("seed", func(c *chatCtx, n int) error {
	for i := range n {
		role := ai.RoleUser
		if i%2 == 1 {
			role = ai.RoleAssistant
		}
		c.State.Conv.Messages = append(c.State.Conv.Messages,
			ai.Message{ID: "s" + strconv.Itoa(i), Role: role, Text: "an earlier message of some length", Status: ai.StatusDone})
	}
	c.State.Conv.Seq = 1000 // the run's message IDs have the same length whatever n is
	return nil
})

// patchBytesOfRun returns the bytes a subscriber receives per flush while
// an answer streams into a conversation of earlier messages.
func patchBytesOfRun(t *testing.T, earlier int) []int {
	var sizes []int
	synctest.Test(t, func(t *testing.T) {
		p := replay.Script(replay.Answer("one two three four five six seven eight nine ten"))
		p.Pace = 100 * time.Millisecond // two flush intervals: every delta is flushed
		obs := &published{}
		a := &ai.Agent[chatState, zocket.NoData]{Provider: p, Conversation: conversation}
		send := a.Method("send")
		app := zocket.NewApp(zocket.WithObserver(obs)).
			Register("chat", zocket.NewActor[chatState]().Methods(send, seed))
		defer app.Close(context.Background())
		c := zockettest.NewServer(app, zockettest.Options{}).Client(t, client.Options{})
		h := c.Actor("chat", "c1")
		defer h.Release()
		off := client.OnState(h, func(chatState) {})
		defer off()
		_, err := client.Call(t.Context(), h, seed, earlier)
		require.NoError(t, err)
		synctest.Wait()
		obs.take()

		_, err = client.Call(t.Context(), h, send, ai.Prompt{Text: "count to ten"})
		require.NoError(t, err)
		synctest.Wait()
		sizes = obs.take()
	})
	return sizes
}

// A delta's patch names the message it grows: it does not carry, or
// depend on, the conversation before it.
func TestAgent_PatchBytesPerDeltaDoNotGrowWithTheConversation(t *testing.T) {
	short := patchBytesOfRun(t, 100)
	long := patchBytesOfRun(t, 900) // same number of digits in the index
	require.GreaterOrEqual(t, len(short), 10, "a patch per delta at least")
	assert.Equal(t, short, long)
	for _, b := range short {
		assert.Less(t, b, 512, "a patch is small: %v", short)
	}
}
