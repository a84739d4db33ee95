// Package agent is an AI-agent-style actor with no model behind it: a fake
// token generator streams an answer into the agent's state (a streaming
// method) and to the caller (rpc:stream chunks), a step is delegated to
// another actor (a "tools" instance), and an idle timer expires the session.
package agent

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/zocket-go/zocket"
)

// Message is one turn of the conversation.
type Message struct {
	Role string `json:"role"`
	Text string `json:"text"`
}

// Statuses of a session.
const (
	Idle     = "idle"
	Thinking = "thinking"
	Expired  = "expired"
)

// State is an agent session's state.
type State struct {
	Messages []Message `json:"messages"`
	Draft    string    `json:"draft"` // the answer being generated
	Status   string    `json:"status"`
	Notes    []string  `json:"notes"` // what the tools said
	idle     zocket.TimerID
}

// Ask is ask's input.
type Ask struct {
	Prompt  string `json:"prompt" validate:"required,max=2000"`
	TokenMs int    `json:"tokenMs" validate:"gte=0,lte=1000"` // delay between tokens (default 20)
	IdleMs  int    `json:"idleMs" validate:"gte=0"`           // session expires after this idle time (default 60000)
}

// SetDefaults implements zocket.Defaulter.
func (a *Ask) SetDefaults() { a.TokenMs, a.IdleMs = 20, 60_000 }

// Text is the tools' input.
type Text struct {
	Text string `json:"text"`
}

// Counted is the tools' result.
type Counted struct {
	Words int `json:"words"`
}

// ToolsState counts the tools' work.
type ToolsState struct {
	Calls int `json:"calls"`
}

// WordCount is the tool the agent delegates to.
var WordCount = zocket.Method("wordCount", func(c *zocket.Context[ToolsState, zocket.NoData], in Text) (Counted, error) {
	c.State.Calls++
	return Counted{Words: len(strings.Fields(in.Text))}, nil
})

// Tools is the tools actor; register it as "tools".
func Tools() *zocket.Actor[ToolsState, zocket.NoData] {
	return zocket.NewActor[ToolsState]().Methods(WordCount)
}

type ctx = zocket.Context[State, zocket.NoData]

// Expire ends an idle session.
var Expire = zocket.MethodNoIO("expire", func(c *ctx) error {
	c.State.Status = Expired
	return nil
})

// AskAgent generates an answer token by token: subscribers watch the draft
// grow (at most one patch per 50 ms), the caller receives every token as a
// chunk, and the result is the whole answer.
var AskAgent = zocket.Method("ask", func(c *ctx, in Ask) (string, error) {
	s := c.State
	zocket.CancelTimer(c, s.idle)
	s.Status = Thinking
	s.Messages = append(s.Messages, Message{Role: "user", Text: in.Prompt})
	c.Flush()

	// Delegate a step to another actor, bounded by a deadline.
	callCtx, cancel := context.WithTimeout(c.Context(), 5*time.Second)
	counted, err := WordCount.Invoke(callCtx, c.App(), "tools", c.ActorID, Text{Text: in.Prompt})
	cancel()
	if err != nil {
		return "", err
	}
	s.Notes = append(s.Notes, "wordCount: "+strconv.Itoa(counted.Words))

	for _, tok := range tokens(in.Prompt, counted.Words) {
		s.Draft += tok
		c.Flush()
		if err := c.SendChunk(tok); err != nil {
			return "", err
		}
		select {
		case <-time.After(time.Duration(in.TokenMs) * time.Millisecond):
		case <-c.Context().Done():
			return "", c.Context().Err()
		}
	}
	answer := s.Draft
	s.Messages = append(s.Messages, Message{Role: "assistant", Text: answer})
	s.Draft, s.Status = "", Idle
	s.idle = Expire.After(c, time.Duration(in.IdleMs)*time.Millisecond, zocket.None{})
	return answer, nil
}).Streaming(50 * time.Millisecond)

// tokens is the fake model: a canned answer, split into word tokens.
func tokens(prompt string, words int) []string {
	answer := "You asked about \"" + prompt + "\" (" + strconv.Itoa(words) + " words). Here is a thoughtful answer."
	var out []string
	for i, w := range strings.Fields(answer) {
		if i > 0 {
			w = " " + w
		}
		out = append(out, w)
	}
	return out
}

// Actor is the agent session actor; register it as "agent" (with Tools as
// "tools").
func Actor() *zocket.Actor[State, zocket.NoData] {
	return zocket.NewActor[State]().
		Initial(func() State { return State{Status: Idle} }).
		Methods(AskAgent, Expire)
}
