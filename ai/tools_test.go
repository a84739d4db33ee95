package ai_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/ai"
	"github.com/zocket-go/zocket/ai/replay"
)

type text struct {
	Text string `json:"text" validate:"required"`
}

type counted struct {
	Words int `json:"words"`
}

type toolsState struct {
	Calls int `json:"calls"`
}

var wordCount = zocket.Method("wordCount", func(c *zocket.Context[toolsState, zocket.NoData], in text) (counted, error) {
	c.State.Calls++
	return counted{Words: len(strings.Fields(in.Text))}, nil
})

func tools() *zocket.Actor[toolsState, zocket.NoData] {
	return zocket.NewActor[toolsState]().Methods(wordCount)
}

type weatherIn struct {
	City string `json:"city" validate:"required,max=50" jsonschema:"description=the city"`
	Days int    `json:"days,omitempty" validate:"gte=0,lte=7"`
}

type weatherOut struct {
	Forecast string `json:"forecast"`
}

var weather = ai.Func("weather", "the weather in a city", func(_ context.Context, env ai.ToolEnv, in weatherIn) (weatherOut, error) {
	if in.City == "Atlantis" {
		return weatherOut{}, errors.New("no such city")
	}
	return weatherOut{Forecast: "sunny in " + in.City + " for " + env.ConversationID}, nil
})

var explode = ai.Func("explode", "panics", func(context.Context, ai.ToolEnv, struct{}) (string, error) {
	panic("boom")
})

func withTools(a *ai.Agent[chatState, zocket.NoData]) {
	a.Tools = []ai.Tool{weather, explode, ai.ActorTool("counts words", wordCount, "tools", nil)}
}

func TestAgent_RunsTypedToolsAndActorToolsAndGivesTheModelTheirResults(t *testing.T) {
	p := replay.Script(
		replay.Calls(
			ai.ToolCall{ID: "call_1", Name: "weather", Arguments: `{"city":"Oslo","days":2}`},
			ai.ToolCall{ID: "call_2", Name: "wordCount", Arguments: `{"text":"one two three"}`}),
		replay.Answer("Sunny, and three words."))
	tc := newTestChat(t, p, withTools)
	var chunks []ai.Chunk
	ctx := zocket.WithChunks(t.Context(), func(raw json.RawMessage) {
		var ch ai.Chunk
		require.NoError(t, json.Unmarshal(raw, &ch))
		chunks = append(chunks, ch)
	})
	res, err := tc.send.Invoke(ctx, tc.app, "chat", "c1", ai.Prompt{Text: "weather and words"})
	require.NoError(t, err)
	assert.Equal(t, "Sunny, and three words.", res.Message.Text)

	st := stateOf(t, tc, "c1")
	var got []string
	for _, m := range st.Conv.Messages {
		got = append(got, string(m.Role)+": "+m.Text)
	}
	assert.Equal(t, []string{
		"user: weather and words",
		"assistant: ",
		`tool: {"forecast":"sunny in Oslo for c1"}`,
		`tool: {"words":3}`,
		"assistant: Sunny, and three words.",
	}, got)
	assert.Len(t, st.Conv.Messages[1].ToolCalls, 2)

	second := p.Requests()[1]
	require.Len(t, second.Messages, 4, "user, assistant with tool calls, two tool results")
	assert.Equal(t, "call_2", second.Messages[3].ToolCallID)
	require.Len(t, second.Tools, 3)
	assert.JSONEq(t, `{"type":"object","properties":{"city":{"type":"string","description":"the city"},"days":{"type":"integer"}},"required":["city"],"additionalProperties":false}`,
		string(second.Tools[0].Schema))

	assert.Equal(t, []string{"start", "start-step", "tool-input-available", "tool-output-available",
		"tool-input-available", "tool-output-available", "finish-step", "start-step", "text-start",
		"text-delta", "text-end", "finish-step", "finish"}, chunkTypes(chunks))
	assert.JSONEq(t, `{"city":"Oslo","days":2}`, string(chunks[2].Input))
	assert.JSONEq(t, `{"words":3}`, string(chunks[5].Output))
}

func TestAgent_BadToolCallsGiveTheModelAnErrorResultNotAPanic(t *testing.T) {
	p := replay.Script(
		replay.Calls(
			ai.ToolCall{ID: "a", Name: "weather", Arguments: `{"city":""}`},
			ai.ToolCall{ID: "b", Name: "weather", Arguments: `{"city":"Oslo","days":"two"}`},
			ai.ToolCall{ID: "c", Name: "weather", Arguments: `{"city":"Oslo","extra":1}`},
			ai.ToolCall{ID: "d", Name: "weather", Arguments: `{"city":`},
			ai.ToolCall{ID: "e", Name: "weather", Arguments: `{"city":"Atlantis"}`},
			ai.ToolCall{ID: "f", Name: "explode", Arguments: ``},
			ai.ToolCall{ID: "g", Name: "teleport", Arguments: `{}`}),
		replay.Answer("Sorry."))
	tc := newTestChat(t, p, withTools)
	res, err := tc.send.Invoke(t.Context(), tc.app, "chat", "c1", ai.Prompt{Text: "break things"})
	require.NoError(t, err)
	assert.Equal(t, "Sorry.", res.Message.Text)

	results := map[string]ai.Message{}
	for _, m := range p.Requests()[1].Messages {
		if m.Role == ai.RoleTool {
			results[m.ToolCallID] = m
		}
	}
	for id, want := range map[string]string{
		"a": "invalid arguments: Key: 'weatherIn.City' Error:Field validation for 'City' failed on the 'required' tag",
		"b": "invalid arguments: json: cannot unmarshal string into Go struct field weatherIn.days of type int",
		"c": `invalid arguments: json: unknown field "extra"`,
		"d": "invalid arguments: unexpected EOF",
		"e": "no such city",
		"f": "tool explode failed",
		"g": `unknown tool "teleport"`,
	} {
		assert.True(t, results[id].IsError, id)
		assert.Equal(t, want, results[id].Text, id)
	}
}

// A run that ends between a model's tool calls and their results leaves
// calls without a result; the providers refuse such a history, so the
// next run leaves those calls out.
func TestAgent_ToolCallsLeftWithoutAResultAreNotSentAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		slow := ai.Func("slow", "never ends", func(ctx context.Context, _ ai.ToolEnv, _ struct{}) (string, error) {
			<-ctx.Done()
			return "", ctx.Err()
		})
		p := replay.Script(
			replay.Calls(ai.ToolCall{ID: "a", Name: "slow", Arguments: `{}`},
				ai.ToolCall{ID: "b", Name: "weather", Arguments: `{"city":"Oslo"}`}),
			replay.Answer("Let us try again."))
		tc := newTestChat(t, p, func(a *ai.Agent[chatState, zocket.NoData]) {
			a.Tools = []ai.Tool{slow, weather}
			a.Timeout = time.Second
		})
		_, err := tc.send.Invoke(t.Context(), tc.app, "chat", "c1", ai.Prompt{Text: "go"})
		require.ErrorIs(t, err, ai.ErrTimeout)
		_, err = tc.send.Invoke(t.Context(), tc.app, "chat", "c1", ai.Prompt{Text: "again"})
		require.NoError(t, err)

		history := p.Requests()[1].Messages
		require.Len(t, history, 4, "user, assistant, the one tool result, user")
		assert.Equal(t, []ai.ToolCall{{ID: "a", Name: "slow", Arguments: `{}`}}, history[1].ToolCalls)
		assert.Equal(t, "a", history[2].ToolCallID)
		assert.Equal(t, "context deadline exceeded", history[2].Text)
	})
}
