package ai

import (
	"errors"
	"strconv"
	"strings"
)

// Role is who a message is from.
type Role string

// Roles.
const (
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleTool      Role = "tool" // a tool's result, answering one of the assistant's tool calls
)

// Status is where an assistant message is in its generation.
type Status string

// Statuses of assistant messages.
const (
	StatusStreaming Status = "streaming" // tokens are arriving, into Pieces
	StatusDone      Status = "done"      // complete
	StatusFailed    Status = "failed"    // the model or the run failed; Error says why; Text is what arrived
	StatusStopped   Status = "stopped"   // stopped by Agent.Stop; Text is what arrived
)

// Message is one message of a conversation, as kept in the actor's state
// and sent to the model.
type Message struct {
	ID   string `json:"id"`
	Role Role   `json:"role"`
	// Text is the user's prompt, the assistant's answer (complete once
	// the message no longer streams) or a tool's result (JSON, or an
	// error text when IsError).
	Text string `json:"text"`
	// Pieces hold an assistant message's text while it streams: a flush
	// appends one piece, the text that arrived since the previous flush,
	// so its patch carries only the new text. When the message ends
	// (done, failed or stopped) the pieces are joined into Text and
	// removed. The text to show is always Text followed by the pieces
	// (FullText).
	Pieces []string `json:"pieces,omitempty"`
	// ToolCalls are the assistant's complete tool calls.
	ToolCalls []ToolCall `json:"toolCalls,omitempty"`
	// Status and Error are set on assistant messages.
	Status Status `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
	// ToolCallID, ToolName and IsError are set on tool messages.
	ToolCallID string `json:"toolCallId,omitempty"`
	ToolName   string `json:"toolName,omitempty"`
	IsError    bool   `json:"isError,omitempty"`
}

// FullText is the message's text so far: Text followed by the Pieces.
func (m Message) FullText() string {
	if len(m.Pieces) == 0 {
		return m.Text
	}
	return m.Text + strings.Join(m.Pieces, "")
}

// end sets the status of m, which no longer streams, and joins its pieces
// into its Text.
func end(m *Message, s Status) {
	m.Status = s
	if len(m.Pieces) > 0 {
		m.Text, m.Pieces = m.FullText(), nil
	}
}

// ToolCall is a model's call of a tool.
type ToolCall struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Arguments is the JSON text the model produced (not necessarily
	// valid).
	Arguments string `json:"arguments"`
}

// Conversation is the part of an actor's state an Agent owns: put one in
// your state type and give the Agent a function returning it.
type Conversation struct {
	Messages []Message `json:"messages"`
	// Generating is true while a run is in progress.
	Generating bool `json:"generating"`
	// Usage adds up the tokens of every model turn.
	Usage Usage `json:"usage"`
	// Seq numbers the messages: IDs are "m1", "m2", … in this
	// conversation.
	Seq int `json:"seq"`
}

// add appends a message with a new ID and returns its index.
func (c *Conversation) add(m Message) int {
	c.Seq++
	m.ID = "m" + strconv.Itoa(c.Seq)
	c.Messages = append(c.Messages, m)
	return len(c.Messages) - 1
}

// ErrInterrupted is the Error of an assistant message whose run ended
// without finishing it (the App closed, the process stopped): the next
// run finds it still streaming, and marks it failed.
var ErrInterrupted = errors.New("ai: run interrupted")

// settle closes what a run that did not end left open.
func (c *Conversation) settle() {
	c.Generating = false
	for i := range c.Messages {
		if m := &c.Messages[i]; m.Status == StatusStreaming {
			end(m, StatusFailed)
			m.Error = ErrInterrupted.Error()
		}
	}
}

// lastUser is the index of the last user message, or -1.
func (c *Conversation) lastUser() int {
	for i := len(c.Messages) - 1; i >= 0; i-- {
		if c.Messages[i].Role == RoleUser {
			return i
		}
	}
	return -1
}

// history is what the model sees of msgs: assistant messages without text
// or answered tool calls are left out, and so are tool calls without a
// result (a run that failed or stopped before running them), which the
// providers would refuse.
func history(msgs []Message) []Message {
	answered := make(map[string]bool)
	for _, m := range msgs {
		if m.Role == RoleTool {
			answered[m.ToolCallID] = true
		}
	}
	out := make([]Message, 0, len(msgs))
	for _, m := range msgs {
		if m.Role == RoleAssistant {
			var calls []ToolCall
			for _, tc := range m.ToolCalls {
				if answered[tc.ID] {
					calls = append(calls, tc)
				}
			}
			if m.Text == "" && len(calls) == 0 {
				continue
			}
			m.ToolCalls = calls
		}
		out = append(out, m)
	}
	return out
}
