package anthropic_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/ai"
	"github.com/zocket-go/zocket/ai/anthropic"
	"github.com/zocket-go/zocket/ai/internal/ssetest"
)

func provider(srv *ssetest.Server) *anthropic.Provider {
	return anthropic.New("claude-sonnet-4-5", option.WithBaseURL(srv.URL), option.WithAPIKey("sk-ant-test"),
		option.WithMaxRetries(0))
}

var hi = ai.Request{Messages: []ai.Message{{Role: ai.RoleUser, Text: "hi"}}}

func TestProvider_StreamsTextThenUsageAndFinishReason(t *testing.T) {
	srv := ssetest.Replay(t, "text.sse")
	s, err := provider(srv).Stream(t.Context(), hi)
	require.NoError(t, err)
	evs, err := ssetest.Drain(s)
	require.NoError(t, err)
	assert.Equal(t, []ai.Event{
		{Type: ai.TextDelta, Text: "Actors"},
		{Type: ai.TextDelta, Text: " own their"},
		{Type: ai.TextDelta, Text: " state."},
		{Type: ai.UsageReport, Usage: ai.Usage{InputTokens: 25, OutputTokens: 6}},
		{Type: ai.Finished, FinishReason: ai.FinishStop},
	}, evs)
}

func TestProvider_AssemblesAToolCallFromItsJSONDeltas(t *testing.T) {
	srv := ssetest.Replay(t, "tooluse.sse")
	s, err := provider(srv).Stream(t.Context(), hi)
	require.NoError(t, err)
	evs, err := ssetest.Drain(s)
	require.NoError(t, err)
	assert.Equal(t, []ai.Event{
		{Type: ai.TextDelta, Text: "Let me check."},
		{Type: ai.ToolCallDone, ToolCall: ai.ToolCall{ID: "toolu_01T1x1fJ34qAmk2tNTrN7Up6", Name: "weather",
			Arguments: `{"city": "San Francisco"}`}},
		{Type: ai.UsageReport, Usage: ai.Usage{InputTokens: 472, OutputTokens: 89}},
		{Type: ai.Finished, FinishReason: ai.FinishToolCalls},
	}, evs)
}

func TestProvider_AnErrorEventMidStreamEndsTheTurnWithTheAPIError(t *testing.T) {
	srv := ssetest.Replay(t, "error.sse")
	s, err := provider(srv).Stream(t.Context(), hi)
	require.NoError(t, err)
	evs, err := ssetest.Drain(s)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Overloaded")
	assert.Equal(t, []ai.Event{{Type: ai.TextDelta, Text: "Partial"}}, evs)
}

func TestProvider_ARefusedRequestIsAnError(t *testing.T) {
	srv := ssetest.Replay(t, "badrequest.json")
	s, err := provider(srv).Stream(t.Context(), hi)
	require.NoError(t, err)
	_, err = ssetest.Drain(s)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "400 Bad Request")
	assert.Contains(t, err.Error(), "max_tokens: Field required")
}

func TestProvider_SendsTheConversationWithToolResultsInOneUserMessage(t *testing.T) {
	srv := ssetest.Replay(t, "text.sse")
	s, err := provider(srv).Stream(t.Context(), ai.Request{
		System: "be brief",
		Messages: []ai.Message{
			{Role: ai.RoleUser, Text: "weather in Oslo and Lima?"},
			{Role: ai.RoleAssistant, Text: "Checking.", ToolCalls: []ai.ToolCall{
				{ID: "t1", Name: "weather", Arguments: `{"city":"Oslo"}`},
				{ID: "t2", Name: "weather", Arguments: `{"city":`}}},
			{Role: ai.RoleTool, ToolCallID: "t1", Text: `"sunny"`},
			{Role: ai.RoleTool, ToolCallID: "t2", Text: "invalid arguments: unexpected EOF", IsError: true},
		},
		Tools: []ai.ToolSpec{{Name: "weather", Description: "the weather",
			Schema: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}`)}},
	})
	require.NoError(t, err)
	_, err = ssetest.Drain(s)
	require.NoError(t, err)
	assert.JSONEq(t, `{
		"model": "claude-sonnet-4-5",
		"max_tokens": 4096,
		"stream": true,
		"system": [{"type": "text", "text": "be brief"}],
		"messages": [
			{"role": "user", "content": [{"type": "text", "text": "weather in Oslo and Lima?"}]},
			{"role": "assistant", "content": [
				{"type": "text", "text": "Checking."},
				{"type": "tool_use", "id": "t1", "name": "weather", "input": {"city": "Oslo"}},
				{"type": "tool_use", "id": "t2", "name": "weather", "input": {}}]},
			{"role": "user", "content": [
				{"type": "tool_result", "tool_use_id": "t1", "content": [{"type": "text", "text": "\"sunny\""}], "is_error": false},
				{"type": "tool_result", "tool_use_id": "t2", "content": [{"type": "text", "text": "invalid arguments: unexpected EOF"}], "is_error": true}]}
		],
		"tools": [{"name": "weather", "description": "the weather",
			"input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": false}}]
	}`, string(srv.Bodies()[0]))
}

type state struct {
	Conv ai.Conversation `json:"conv"`
}

type city struct {
	City string `json:"city" validate:"required"`
}

func TestProvider_DrivesAnAgentThroughAToolCallToTheAnswer(t *testing.T) {
	srv := ssetest.Replay(t, "tooluse.sse", "text.sse")
	agent := &ai.Agent[state, zocket.NoData]{
		Provider:     provider(srv),
		Conversation: func(s *state) *ai.Conversation { return &s.Conv },
		Tools: []ai.Tool{ai.Func("weather", "the weather in a city", func(_ context.Context, _ ai.ToolEnv, in city) (string, error) {
			return "foggy in " + in.City, nil
		})},
	}
	send := agent.Method("send")
	app := zocket.NewApp().Register("chat", zocket.NewActor[state]().Methods(send))
	defer app.Close(context.Background())
	res, err := send.Invoke(t.Context(), app, "chat", "c1", ai.Prompt{Text: "weather in SF?"})
	require.NoError(t, err)
	assert.Equal(t, "Actors own their state.", res.Message.Text)
	assert.Equal(t, ai.Usage{InputTokens: 497, OutputTokens: 95}, res.Usage)

	var second struct {
		Messages []json.RawMessage `json:"messages"`
	}
	require.NoError(t, json.Unmarshal(srv.Bodies()[1], &second))
	require.Len(t, second.Messages, 3)
	assert.JSONEq(t, `{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6",
		"content":[{"type":"text","text":"\"foggy in San Francisco\""}],"is_error":false}]}`, string(second.Messages[2]))
}
