package replay_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/ai"
	"github.com/zocket-go/zocket/ai/internal/ssetest"
	"github.com/zocket-go/zocket/ai/replay"
)

func TestScript_AnswersInOrderThenIsExhausted(t *testing.T) {
	p := replay.Script(replay.Answer("a b"), replay.Calls(ai.ToolCall{ID: "1", Name: "f"}))
	req := ai.Request{Messages: []ai.Message{{Role: ai.RoleUser, Text: "hi"}}}

	s, err := p.Stream(t.Context(), req)
	require.NoError(t, err)
	evs, err := ssetest.Drain(s)
	require.NoError(t, err)
	assert.Equal(t, []ai.Event{
		{Type: ai.TextDelta, Text: "a"},
		{Type: ai.TextDelta, Text: " b"},
		{Type: ai.UsageReport, Usage: ai.Usage{InputTokens: 10, OutputTokens: 2}},
		{Type: ai.Finished, FinishReason: ai.FinishStop},
	}, evs)

	s, _ = p.Stream(t.Context(), req)
	evs, err = ssetest.Drain(s)
	require.NoError(t, err)
	assert.Equal(t, []ai.Event{
		{Type: ai.ToolCallDone, ToolCall: ai.ToolCall{ID: "1", Name: "f"}},
		{Type: ai.Finished, FinishReason: ai.FinishToolCalls},
	}, evs)

	s, _ = p.Stream(t.Context(), req)
	_, err = ssetest.Drain(s)
	assert.ErrorIs(t, err, replay.ErrExhausted)
	assert.Len(t, p.Requests(), 3)
}

func TestProvider_PacesEventsAndStopsWithItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := replay.Script(replay.Answer("a b c"))
		p.Pace = time.Second
		ctx, cancel := context.WithCancel(t.Context())
		s, err := p.Stream(ctx, ai.Request{})
		require.NoError(t, err)
		start := time.Now()
		_, err = s.Next()
		require.NoError(t, err)
		assert.Equal(t, time.Second, time.Since(start), "on the fake clock")
		cancel()
		_, err = s.Next()
		assert.ErrorIs(t, err, context.Canceled)
	})
}

func TestTurn_HoldStallsUntilReleasedOrCancelled(t *testing.T) {
	turn := replay.Answer("a b")
	release := make(chan struct{})
	turn.Hold, turn.HoldAt = release, 1
	p := replay.Script(turn)

	s, _ := p.Stream(t.Context(), ai.Request{})
	ev, err := s.Next()
	require.NoError(t, err)
	assert.Equal(t, "a", ev.Text)
	got := make(chan ai.Event)
	go func() { ev, _ := s.Next(); got <- ev }()
	close(release)
	assert.Equal(t, " b", (<-got).Text)

	ctx, cancel := context.WithCancel(t.Context())
	turn.Hold = make(chan struct{}) // never released
	p = replay.Script(turn)
	s, _ = p.Stream(ctx, ai.Request{})
	_, _ = s.Next()
	cancel()
	_, err = s.Next()
	assert.True(t, errors.Is(err, context.Canceled))
}
