package ai

import (
	"context"
	"encoding/json"
)

// Provider streams a model's answer. Implementations live in subpackages
// (ai/openai, ai/anthropic) or are written by the application; ai/replay
// replays scripted answers for tests and demos.
type Provider interface {
	// Stream starts one model turn. The returned Stream is read until
	// Next returns an error (io.EOF at the normal end) and then closed.
	// Cancelling ctx ends the turn: Next then returns ctx's error.
	Stream(ctx context.Context, req Request) (Stream, error)
}

// Stream is one model turn being generated.
type Stream interface {
	// Next returns the next event; io.EOF after the last one. Any other
	// error ends the turn: it is the provider's error (for example an
	// error event in the middle of the response), wrapped.
	Next() (Event, error)
	// Close releases the connection; it may be called at any time, more
	// than once.
	Close() error
}

// Request is what a model turn gets: the system prompt, the conversation
// so far, and the tools the model may call.
type Request struct {
	System   string
	Messages []Message
	Tools    []ToolSpec
}

// ToolSpec describes a tool to the model.
type ToolSpec struct {
	Name        string
	Description string
	// Schema is the JSON Schema of the tool's input (an object).
	Schema json.RawMessage
}

// EventType says what an Event carries.
type EventType uint8

// Event types.
const (
	// TextDelta: Event.Text is the next piece of the answer's text.
	TextDelta EventType = iota + 1
	// ToolCallDone: Event.ToolCall is a complete tool call (its arguments
	// are the whole JSON text the model produced, valid or not).
	ToolCallDone
	// UsageReport: Event.Usage counts the tokens of this turn so far; a
	// later report replaces an earlier one.
	UsageReport
	// Finished: Event.FinishReason says why the model stopped. It is the
	// last event before io.EOF.
	Finished
)

// Event is one piece of a streamed model turn.
type Event struct {
	Type         EventType
	Text         string
	ToolCall     ToolCall
	Usage        Usage
	FinishReason FinishReason
}

// FinishReason is why a model turn, or a whole run, ended. The values are
// the AI SDK's.
type FinishReason string

// Finish reasons.
const (
	FinishStop          FinishReason = "stop"           // the model finished its answer
	FinishLength        FinishReason = "length"         // the token limit was reached
	FinishToolCalls     FinishReason = "tool-calls"     // the model called tools
	FinishContentFilter FinishReason = "content-filter" // the provider filtered the answer
	FinishError         FinishReason = "error"          // the turn failed
	FinishOther         FinishReason = "other"          // anything else
)

// Usage counts tokens.
type Usage struct {
	InputTokens  int64 `json:"inputTokens"`
	OutputTokens int64 `json:"outputTokens"`
}

// Add returns the sum of u and v.
func (u Usage) Add(v Usage) Usage {
	return Usage{InputTokens: u.InputTokens + v.InputTokens, OutputTokens: u.OutputTokens + v.OutputTokens}
}
