package ai_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
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
// answer streams (a delta per word) into a conversation of earlier
// messages: the flush starting the answer, one per delta, and the end.
func patchBytesOfRun(t *testing.T, earlier int, answer string) []int {
	var sizes []int
	synctest.Test(t, func(t *testing.T) {
		p := replay.Script(replay.Answer(answer))
		p.Pace = 100 * time.Millisecond // two flush intervals: every delta is flushed
		obs := &published{}
		a := &ai.Agent[chatState, zocket.NoData]{Provider: p, Conversation: conversation}
		send := a.Method("send")
		app := zocket.NewApp(zocket.WithObserver(obs)).
			Register("chat", zocket.NewActor[chatState]().Methods(send, seed))
		defer app.Close(context.Background())
		c := zockettest.NewServer(app, zockettest.Options{}).Client(t, client.Options{RPCTimeout: time.Hour})
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
	const answer = "one two three four five six seven eight nine ten"
	short := patchBytesOfRun(t, 100, answer)
	long := patchBytesOfRun(t, 900, answer) // same number of digits in the index
	require.GreaterOrEqual(t, len(short), 10, "a patch per delta at least")
	assert.Equal(t, short, long)
	for _, b := range short {
		assert.Less(t, b, 512, "a patch is small: %v", short)
	}
}

// A flush's patch adds the text that arrived since the previous flush (a
// piece), not the answer so far: the patches of the last deltas of a long
// answer are as small as those of the first ones. The text is sent whole
// only once, when the answer ends.
func TestAgent_PatchBytesPerFlushDoNotGrowWithTheAnswer(t *testing.T) {
	const deltas = 1000
	words := make([]string, deltas)
	for i := range words {
		words[i] = fmt.Sprintf("w%04d", i) // all of one width
	}
	answer := strings.Join(words, " ")
	sizes := patchBytesOfRun(t, 0, answer)
	require.Len(t, sizes, deltas+2, "the start, a patch per delta, the end")
	perDelta := sizes[1 : deltas+1]
	first, last := mean(perDelta[1:101]), mean(perDelta[deltas-100:])
	assert.InDelta(t, first, last, 4, "the index of the piece has two more digits at most")
	assert.Less(t, last, 200.0)
	assert.Greater(t, sizes[deltas+1], len(answer), "the end sets the whole text once")
}

func mean(sizes []int) float64 {
	sum := 0
	for _, b := range sizes {
		sum += b
	}
	return float64(sum) / float64(len(sizes))
}

// While an answer streams, subscribers see its text as pieces that only
// ever get appended to; when it ends, the message holds its whole text,
// without pieces.
func TestAgent_StreamingTextIsAppendedPiecesUntilTheMessageEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := replay.Script(replay.Answer("one two three four five six seven eight"))
		p.Pace = 20 * time.Millisecond // a flush per two or three deltas
		tc := newTestChat(t, p, nil)
		c := tc.srv.Client(t, client.Options{})
		h := c.Actor("chat", "c1")
		defer h.Release()
		w := tc.watch(t, h)
		res, err := client.Call(t.Context(), h, tc.send, ai.Prompt{Text: "count"})
		require.NoError(t, err)
		synctest.Wait()

		var pieces []string
		for _, s := range w.all() {
			if len(s.Conv.Messages) < 2 || s.Conv.Messages[1].Status != ai.StatusStreaming {
				continue
			}
			m := s.Conv.Messages[1]
			assert.Empty(t, m.Text)
			require.GreaterOrEqual(t, len(m.Pieces), len(pieces))
			assert.True(t, slices.Equal(pieces, m.Pieces[:len(pieces)]), "pieces are only appended: %q, then %q", pieces, m.Pieces)
			pieces = m.Pieces
		}
		assert.Equal(t, []string{"one two three", " four five six"}, pieces, "a piece per flush")

		states := w.all()
		end := states[len(states)-1].Conv.Messages[1]
		assert.Equal(t, "one two three four five six seven eight", end.Text)
		assert.Nil(t, end.Pieces)
		assert.Equal(t, res.Message, end)
	})
}
