package ai

import "encoding/json"

// Chunk is what an agent's method sends its caller as rpc:stream chunks
// while it runs: a chunk of the AI SDK's UI message stream, so that the
// WebSocket stream and ChatHandler's server-sent events carry the same
// objects. A run sends "start" (MessageID: the first assistant message's
// ID), then per model turn "start-step", "text-start" / "text-delta" /
// "text-end" (ID: that turn's assistant message ID), per tool call
// "tool-input-available" then "tool-output-available" or
// "tool-output-error", and "finish-step"; it ends with "finish"
// (FinishReason), "abort" (stopped) or "error" (ErrorText).
type Chunk struct {
	Type         string          `json:"type"`
	ID           string          `json:"id,omitempty"`
	Delta        string          `json:"delta,omitempty"`
	MessageID    string          `json:"messageId,omitempty"`
	ToolCallID   string          `json:"toolCallId,omitempty"`
	ToolName     string          `json:"toolName,omitempty"`
	Input        json.RawMessage `json:"input,omitempty"`
	Output       json.RawMessage `json:"output,omitempty"`
	ErrorText    string          `json:"errorText,omitempty"`
	FinishReason FinishReason    `json:"finishReason,omitempty"`
}

// Chunk types.
const (
	ChunkStart         = "start"
	ChunkStartStep     = "start-step"
	ChunkTextStart     = "text-start"
	ChunkTextDelta     = "text-delta"
	ChunkTextEnd       = "text-end"
	ChunkToolInput     = "tool-input-available"
	ChunkToolOutput    = "tool-output-available"
	ChunkToolOutputErr = "tool-output-error"
	ChunkFinishStep    = "finish-step"
	ChunkFinish        = "finish"
	ChunkAbort         = "abort"
	ChunkError         = "error"
)
