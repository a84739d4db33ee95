package openai_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/openai/openai-go/v3/option"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/ai"
	"github.com/zocket-go/zocket/ai/internal/ssetest"
	"github.com/zocket-go/zocket/ai/openai"
)

func provider(srv *ssetest.Server) *openai.Provider {
	return openai.New("gpt-4o-mini", option.WithBaseURL(srv.URL+"/v1"), option.WithAPIKey("sk-test"),
		option.WithMaxRetries(0))
}

func TestProvider_StreamsTextThenUsageAndFinishReason(t *testing.T) {
	srv := ssetest.Replay(t, "text.sse")
	s, err := provider(srv).Stream(t.Context(), ai.Request{Messages: []ai.Message{{Role: ai.RoleUser, Text: "hi"}}})
	require.NoError(t, err)
	evs, err := ssetest.Drain(s)
	require.NoError(t, err)
	assert.Equal(t, []ai.Event{
		{Type: ai.TextDelta, Text: "Actors"},
		{Type: ai.TextDelta, Text: " own"},
		{Type: ai.TextDelta, Text: " their"},
		{Type: ai.TextDelta, Text: " state."},
		{Type: ai.UsageReport, Usage: ai.Usage{InputTokens: 25, OutputTokens: 5}},
		{Type: ai.Finished, FinishReason: ai.FinishStop},
	}, evs)
}

func TestProvider_AssemblesToolCallsStreamedInPieces(t *testing.T) {
	srv := ssetest.Replay(t, "toolcalls.sse")
	s, err := provider(srv).Stream(t.Context(), ai.Request{Messages: []ai.Message{{Role: ai.RoleUser, Text: "weather?"}}})
	require.NoError(t, err)
	evs, err := ssetest.Drain(s)
	require.NoError(t, err)
	assert.Equal(t, []ai.Event{
		{Type: ai.ToolCallDone, ToolCall: ai.ToolCall{ID: "call_Wq1", Name: "weather", Arguments: `{"city": "Oslo"}`}},
		{Type: ai.ToolCallDone, ToolCall: ai.ToolCall{ID: "call_Xe2", Name: "weather", Arguments: `{"city": "Lima"}`}},
		{Type: ai.UsageReport, Usage: ai.Usage{InputTokens: 80, OutputTokens: 36}},
		{Type: ai.Finished, FinishReason: ai.FinishToolCalls},
	}, evs)
}

func TestProvider_AnErrorEventMidStreamEndsTheTurnWithTheServersMessage(t *testing.T) {
	srv := ssetest.Replay(t, "error.sse")
	s, err := provider(srv).Stream(t.Context(), ai.Request{Messages: []ai.Message{{Role: ai.RoleUser, Text: "hi"}}})
	require.NoError(t, err)
	evs, err := ssetest.Drain(s)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "The server had an error while processing your request.")
	assert.Equal(t, []ai.Event{{Type: ai.TextDelta, Text: "Partial"}}, evs)
}

func TestProvider_ARefusedRequestIsAnError(t *testing.T) {
	srv := ssetest.Replay(t, "badrequest.json")
	s, err := provider(srv).Stream(t.Context(), ai.Request{Messages: []ai.Message{{Role: ai.RoleUser, Text: "hi"}}})
	require.NoError(t, err)
	_, err = ssetest.Drain(s)
	require.Error(t, err)
	assert.Equal(t, "openai: OpenAI API error: 400 Bad Request: Invalid value for 'model': 'nope' does not exist.", err.Error())
}

func TestProvider_SendsTheConversationToolsAndAsksForUsage(t *testing.T) {
	srv := ssetest.Replay(t, "text.sse")
	s, err := provider(srv).Stream(t.Context(), ai.Request{
		System: "be brief",
		Messages: []ai.Message{
			{Role: ai.RoleUser, Text: "weather in Oslo?"},
			{Role: ai.RoleAssistant, ToolCalls: []ai.ToolCall{{ID: "call_1", Name: "weather", Arguments: `{"city":"Oslo"}`}}},
			{Role: ai.RoleTool, ToolCallID: "call_1", ToolName: "weather", Text: `{"forecast":"sunny"}`},
			{Role: ai.RoleAssistant, Text: "Sunny."},
		},
		Tools: []ai.ToolSpec{{Name: "weather", Description: "the weather", Schema: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`)}},
	})
	require.NoError(t, err)
	_, err = ssetest.Drain(s)
	require.NoError(t, err)
	assert.JSONEq(t, `{
		"model": "gpt-4o-mini",
		"stream": true,
		"stream_options": {"include_usage": true},
		"messages": [
			{"role": "system", "content": "be brief"},
			{"role": "user", "content": "weather in Oslo?"},
			{"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": "{\"city\":\"Oslo\"}"}}]},
			{"role": "tool", "tool_call_id": "call_1", "content": "{\"forecast\":\"sunny\"}"},
			{"role": "assistant", "content": "Sunny."}
		],
		"tools": [{"type": "function", "function": {"name": "weather", "description": "the weather",
			"parameters": {"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]
	}`, string(srv.Bodies()[0]))
}

type state struct {
	Conv ai.Conversation `json:"conv"`
}

type city struct {
	City string `json:"city" validate:"required"`
}

// The recorded turns drive a real agent: two tool calls, then the answer.
func TestProvider_DrivesAnAgentThroughToolCallsToTheAnswer(t *testing.T) {
	srv := ssetest.Replay(t, "toolcalls.sse", "text.sse")
	agent := &ai.Agent[state, zocket.NoData]{
		Provider:     provider(srv),
		Conversation: func(s *state) *ai.Conversation { return &s.Conv },
		Tools: []ai.Tool{ai.Func("weather", "the weather in a city", func(_ context.Context, _ ai.ToolEnv, in city) (string, error) {
			return "sunny in " + in.City, nil
		})},
	}
	send := agent.Method("send")
	app := zocket.NewApp().Register("chat", zocket.NewActor[state]().Methods(send))
	defer app.Close(context.Background())
	res, err := send.Invoke(t.Context(), app, "chat", "c1", ai.Prompt{Text: "weather in Oslo and Lima?"})
	require.NoError(t, err)
	assert.Equal(t, "Actors own their state.", res.Message.Text)
	assert.Equal(t, ai.Usage{InputTokens: 105, OutputTokens: 41}, res.Usage)

	var second struct {
		Messages []map[string]any `json:"messages"`
	}
	require.NoError(t, json.Unmarshal(srv.Bodies()[1], &second))
	require.Len(t, second.Messages, 4)
	assert.Equal(t, map[string]any{"role": "tool", "tool_call_id": "call_Xe2", "content": `"sunny in Lima"`}, second.Messages[3])
}
