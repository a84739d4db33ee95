// Package openai is an ai.Provider for OpenAI's chat completions API,
// streamed, through the official SDK (github.com/openai/openai-go). It
// works with OpenAI and with servers that speak the same API (vLLM,
// llama.cpp, Ollama, LM Studio, gateways): give their address with
// option.WithBaseURL.
package openai

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"
	"github.com/openai/openai-go/v3/shared"

	"github.com/zocket-go/zocket/ai"
	"github.com/zocket-go/zocket/ai/internal/pull"
)

// Provider streams chat completions of one model.
type Provider struct {
	client oai.Client
	model  string
	// MaxTokens bounds each answer (max_completion_tokens); 0: the
	// server's default.
	MaxTokens int64
}

// New returns a Provider for model. Without options the SDK's defaults
// apply: the API key from OPENAI_API_KEY, the address from
// OPENAI_BASE_URL or OpenAI's; option.WithAPIKey, option.WithBaseURL,
// option.WithHTTPClient and option.WithMaxRetries override them.
func New(model string, opts ...option.RequestOption) *Provider {
	return &Provider{client: oai.NewClient(opts...), model: model}
}

// Stream implements ai.Provider.
func (p *Provider) Stream(ctx context.Context, req ai.Request) (ai.Stream, error) {
	params, err := p.params(req)
	if err != nil {
		return nil, err
	}
	return &stream{s: p.client.Chat.Completions.NewStreaming(ctx, params), calls: map[int64]*ai.ToolCall{}}, nil
}

func (p *Provider) params(req ai.Request) (oai.ChatCompletionNewParams, error) {
	params := oai.ChatCompletionNewParams{
		Model:         shared.ChatModel(p.model),
		StreamOptions: oai.ChatCompletionStreamOptionsParam{IncludeUsage: oai.Bool(true)},
	}
	if p.MaxTokens > 0 {
		params.MaxCompletionTokens = oai.Int(p.MaxTokens)
	}
	if req.System != "" {
		params.Messages = append(params.Messages, oai.SystemMessage(req.System))
	}
	for _, m := range req.Messages {
		switch m.Role {
		case ai.RoleUser:
			params.Messages = append(params.Messages, oai.UserMessage(m.Text))
		case ai.RoleTool:
			params.Messages = append(params.Messages, oai.ToolMessage(m.Text, m.ToolCallID))
		case ai.RoleAssistant:
			var a oai.ChatCompletionAssistantMessageParam
			if m.Text != "" {
				a.Content.OfString = oai.String(m.Text)
			}
			for _, tc := range m.ToolCalls {
				a.ToolCalls = append(a.ToolCalls, oai.ChatCompletionMessageToolCallUnionParam{
					OfFunction: &oai.ChatCompletionMessageFunctionToolCallParam{ID: tc.ID,
						Function: oai.ChatCompletionMessageFunctionToolCallFunctionParam{Name: tc.Name, Arguments: tc.Arguments}}})
			}
			params.Messages = append(params.Messages, oai.ChatCompletionMessageParamUnion{OfAssistant: &a})
		}
	}
	for _, t := range req.Tools {
		var schema shared.FunctionParameters
		if err := json.Unmarshal(t.Schema, &schema); err != nil {
			return params, fmt.Errorf("openai: schema of tool %s: %w", t.Name, err)
		}
		fn := shared.FunctionDefinitionParam{Name: t.Name, Parameters: schema}
		if t.Description != "" {
			fn.Description = oai.String(t.Description)
		}
		params.Tools = append(params.Tools, oai.ChatCompletionFunctionTool(fn))
	}
	return params, nil
}

// stream turns completion chunks into ai events: text deltas as they
// come, tool calls (streamed in pieces, by index) when the response ends,
// then the usage and the finish reason.
type stream struct {
	pull.Queue
	s      *ssestream.Stream[oai.ChatCompletionChunk]
	calls  map[int64]*ai.ToolCall
	reason string
	usage  *ai.Usage
}

func (s *stream) Next() (ai.Event, error) { return s.Queue.Next(s.fill) }

func (s *stream) fill() error {
	if !s.s.Next() {
		if err := s.s.Err(); err != nil {
			return wrap(err)
		}
		s.end()
		return nil
	}
	s.chunk(s.s.Current())
	return nil
}

func (s *stream) chunk(c oai.ChatCompletionChunk) {
	if c.JSON.Usage.Valid() {
		s.usage = &ai.Usage{InputTokens: c.Usage.PromptTokens, OutputTokens: c.Usage.CompletionTokens}
	}
	for _, ch := range c.Choices {
		if ch.Index != 0 {
			continue // one answer is asked for
		}
		if ch.Delta.Content != "" {
			s.Push(ai.Event{Type: ai.TextDelta, Text: ch.Delta.Content})
		}
		for _, d := range ch.Delta.ToolCalls {
			tc := s.calls[d.Index]
			if tc == nil {
				tc = &ai.ToolCall{}
				s.calls[d.Index] = tc
			}
			tc.ID = cmp.Or(d.ID, tc.ID)
			tc.Name = cmp.Or(d.Function.Name, tc.Name)
			tc.Arguments += d.Function.Arguments
		}
		if ch.FinishReason != "" {
			s.reason = ch.FinishReason
		}
	}
}

func (s *stream) end() {
	var evs []ai.Event
	for _, i := range slices.Sorted(maps.Keys(s.calls)) {
		evs = append(evs, ai.Event{Type: ai.ToolCallDone, ToolCall: *s.calls[i]})
	}
	if s.usage != nil {
		evs = append(evs, ai.Event{Type: ai.UsageReport, Usage: *s.usage})
	}
	s.End(append(evs, ai.Event{Type: ai.Finished, FinishReason: finishReason(s.reason)})...)
}

func (s *stream) Close() error { return s.s.Close() }

// wrap adds the API's message, which the SDK's errors leave out of their
// text, to err.
func wrap(err error) error {
	var apiErr *oai.Error
	if errors.As(err, &apiErr) && apiErr.Message != "" {
		return fmt.Errorf("openai: %w: %s", err, apiErr.Message)
	}
	return fmt.Errorf("openai: %w", err)
}

func finishReason(r string) ai.FinishReason {
	switch r {
	case "stop":
		return ai.FinishStop
	case "length":
		return ai.FinishLength
	case "tool_calls", "function_call":
		return ai.FinishToolCalls
	case "content_filter":
		return ai.FinishContentFilter
	}
	return ai.FinishOther
}
