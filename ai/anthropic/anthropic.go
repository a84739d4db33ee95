// Package anthropic is an ai.Provider for Anthropic's messages API,
// streamed, through the official SDK
// (github.com/anthropics/anthropic-sdk-go).
package anthropic

import (
	"context"
	"encoding/json"
	"fmt"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/anthropics/anthropic-sdk-go/v2/packages/ssestream"

	"github.com/zocket-go/zocket/ai"
	"github.com/zocket-go/zocket/ai/internal/pull"
)

// DefaultMaxTokens is the answer bound of a Provider whose MaxTokens is 0
// (the API requires one).
const DefaultMaxTokens = 4096

// Provider streams messages of one model.
type Provider struct {
	client sdk.Client
	model  string
	// MaxTokens bounds each answer; 0 means DefaultMaxTokens.
	MaxTokens int64
}

// New returns a Provider for model (for example "claude-sonnet-4-5").
// Without options the SDK's defaults apply: the API key from
// ANTHROPIC_API_KEY, the address from ANTHROPIC_BASE_URL or Anthropic's;
// option.WithAPIKey, option.WithBaseURL, option.WithHTTPClient and
// option.WithMaxRetries override them.
func New(model string, opts ...option.RequestOption) *Provider {
	return &Provider{client: sdk.NewClient(opts...), model: model}
}

// Stream implements ai.Provider.
func (p *Provider) Stream(ctx context.Context, req ai.Request) (ai.Stream, error) {
	params, err := p.params(req)
	if err != nil {
		return nil, err
	}
	return &stream{s: p.client.Messages.NewStreaming(ctx, params), blocks: map[int64]*ai.ToolCall{}}, nil
}

func (p *Provider) params(req ai.Request) (sdk.MessageNewParams, error) {
	params := sdk.MessageNewParams{Model: sdk.Model(p.model), MaxTokens: p.MaxTokens}
	if params.MaxTokens <= 0 {
		params.MaxTokens = DefaultMaxTokens
	}
	if req.System != "" {
		params.System = []sdk.TextBlockParam{{Text: req.System}}
	}
	for _, m := range req.Messages {
		switch m.Role {
		case ai.RoleUser:
			params.Messages = append(params.Messages, sdk.NewUserMessage(sdk.NewTextBlock(m.Text)))
		case ai.RoleTool:
			// Tool results go in a user message; the results of one
			// assistant message's calls share one.
			block := sdk.NewToolResultBlock(m.ToolCallID, m.Text, m.IsError)
			if n := len(params.Messages); n > 0 && params.Messages[n-1].OfUser != nil && isToolResults(params.Messages[n-1]) {
				params.Messages[n-1].OfUser.Content = append(params.Messages[n-1].OfUser.Content, block)
			} else {
				params.Messages = append(params.Messages, sdk.NewUserMessage(block))
			}
		case ai.RoleAssistant:
			var blocks []sdk.ContentBlockParamUnion
			if m.Text != "" {
				blocks = append(blocks, sdk.NewTextBlock(m.Text))
			}
			for _, tc := range m.ToolCalls {
				var input any = json.RawMessage(tc.Arguments)
				if !json.Valid([]byte(tc.Arguments)) {
					input = map[string]any{} // the model got an error result for it
				}
				blocks = append(blocks, sdk.NewToolUseBlock(tc.ID, input, tc.Name))
			}
			params.Messages = append(params.Messages, sdk.NewAssistantMessage(blocks...))
		}
	}
	for _, t := range req.Tools {
		var schema map[string]any
		if err := json.Unmarshal(t.Schema, &schema); err != nil {
			return params, fmt.Errorf("anthropic: schema of tool %s: %w", t.Name, err)
		}
		in := sdk.ToolInputSchemaParam{Properties: schema["properties"], ExtraFields: map[string]any{}}
		if req, ok := schema["required"].([]any); ok {
			for _, r := range req {
				if s, ok := r.(string); ok {
					in.Required = append(in.Required, s)
				}
			}
		}
		for k, v := range schema {
			if k != "type" && k != "properties" && k != "required" {
				in.ExtraFields[k] = v
			}
		}
		tool := sdk.ToolParam{Name: t.Name, InputSchema: in}
		if t.Description != "" {
			tool.Description = sdk.String(t.Description)
		}
		params.Tools = append(params.Tools, sdk.ToolUnionParam{OfTool: &tool})
	}
	return params, nil
}

func isToolResults(m sdk.MessageParam) bool {
	c := m.OfUser.Content
	return len(c) > 0 && c[0].OfToolResult != nil
}

// stream turns message events into ai events: text deltas as they come, a
// tool call when its block ends, the usage and the finish reason when
// the message ends.
type stream struct {
	pull.Queue
	s      *ssestream.Stream[sdk.MessageStreamEventUnion]
	blocks map[int64]*ai.ToolCall // tool_use blocks by index
	usage  ai.Usage
	reason sdk.StopReason
}

func (s *stream) Next() (ai.Event, error) { return s.Queue.Next(s.fill) }

func (s *stream) fill() error {
	if !s.s.Next() {
		if err := s.s.Err(); err != nil {
			return fmt.Errorf("anthropic: %w", err)
		}
		s.end() // the connection ended without message_stop
		return nil
	}
	s.event(s.s.Current())
	return nil
}

func (s *stream) event(e sdk.MessageStreamEventUnion) {
	switch e.Type {
	case "message_start":
		s.usage.InputTokens = e.Message.Usage.InputTokens
		s.usage.OutputTokens = e.Message.Usage.OutputTokens
	case "content_block_start":
		if e.ContentBlock.Type == "tool_use" {
			s.blocks[e.Index] = &ai.ToolCall{ID: e.ContentBlock.ID, Name: e.ContentBlock.Name}
		}
	case "content_block_delta":
		switch e.Delta.Type {
		case "text_delta":
			if e.Delta.Text != "" {
				s.Push(ai.Event{Type: ai.TextDelta, Text: e.Delta.Text})
			}
		case "input_json_delta":
			if tc := s.blocks[e.Index]; tc != nil {
				tc.Arguments += e.Delta.PartialJSON
			}
		}
	case "content_block_stop":
		if tc := s.blocks[e.Index]; tc != nil {
			if tc.Arguments == "" {
				tc.Arguments = "{}"
			}
			s.Push(ai.Event{Type: ai.ToolCallDone, ToolCall: *tc})
			delete(s.blocks, e.Index)
		}
	case "message_delta":
		if e.Usage.InputTokens > 0 {
			s.usage.InputTokens = e.Usage.InputTokens
		}
		s.usage.OutputTokens = e.Usage.OutputTokens
		s.reason = e.Delta.StopReason
	case "message_stop":
		s.end()
	}
}

func (s *stream) end() {
	s.End(ai.Event{Type: ai.UsageReport, Usage: s.usage},
		ai.Event{Type: ai.Finished, FinishReason: finishReason(s.reason)})
}

func (s *stream) Close() error { return s.s.Close() }

func finishReason(r sdk.StopReason) ai.FinishReason {
	switch r {
	case sdk.StopReasonEndTurn, sdk.StopReasonStopSequence:
		return ai.FinishStop
	case sdk.StopReasonMaxTokens:
		return ai.FinishLength
	case sdk.StopReasonToolUse:
		return ai.FinishToolCalls
	case sdk.StopReasonRefusal:
		return ai.FinishContentFilter
	}
	return ai.FinishOther
}
