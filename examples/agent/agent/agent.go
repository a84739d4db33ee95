// Package agent is an AI-agent session actor built on package ai: a model
// streams its answer into the session's state (a streaming method) and to
// the caller (rpc:stream chunks), and calls a tool that is another actor
// ("tools"). Fake is a scripted model, so that it runs with nothing
// installed; the command picks a real one by flag.
package agent

import (
	"strings"
	"time"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/ai"
)

// State is an agent session's state: its conversation.
type State struct {
	Conversation ai.Conversation `json:"conversation"`
	// Expired is set when the session stayed idle for the agent's idle
	// time after an answer; the next message clears it.
	Expired bool `json:"expired"`
	idle    zocket.TimerID
}

type ctx = zocket.Context[State, zocket.NoData]

// Expire marks an idle session expired.
var Expire = zocket.MethodNoIO("expire", func(c *ctx) error {
	c.State.Expired = true
	return nil
})

// Text is the tools' input.
type Text struct {
	Text string `json:"text" validate:"required" jsonschema:"description=the text whose words to count"`
}

// Counted is the tools' result.
type Counted struct {
	Words int `json:"words"`
}

// ToolsState counts the tools' work.
type ToolsState struct {
	Calls int `json:"calls"`
}

// WordCount is the tool the model calls: a method of another actor.
var WordCount = zocket.Method("wordCount", func(c *zocket.Context[ToolsState, zocket.NoData], in Text) (Counted, error) {
	c.State.Calls++
	return Counted{Words: len(strings.Fields(in.Text))}, nil
})

// Tools is the tools actor; register it as "tools".
func Tools() *zocket.Actor[ToolsState, zocket.NoData] {
	return zocket.NewActor[ToolsState]().Methods(WordCount)
}

// Agent is the session actor's definition around a model.
type Agent struct {
	// AI runs the model; its Stop stops a session's run.
	AI *ai.Agent[State, zocket.NoData]
	// Send is the session's method "send": a user message in, the
	// streamed answer out.
	Send *zocket.MethodDef[State, zocket.NoData, ai.Prompt, ai.Result]
}

// New returns the agent for model p, whose sessions expire after idle
// without messages. Register Actor as "agent", StopActor as "agentStop"
// and Tools as "tools".
func New(p ai.Provider, idle time.Duration) *Agent {
	a := &ai.Agent[State, zocket.NoData]{
		Provider:     p,
		Conversation: func(s *State) *ai.Conversation { return &s.Conversation },
		System:       "You are a helpful assistant in a demo of live actors. Use the wordCount tool to count the words of the user's message before answering.",
		Tools:        []ai.Tool{ai.ActorTool("counts the words of a text", WordCount, "tools", nil)},
		Done: func(c *ctx, _ ai.Result, _ error) {
			zocket.CancelTimer(c, c.State.idle)
			c.State.Expired = false
			c.State.idle = Expire.After(c, idle, zocket.None{})
		},
	}
	return &Agent{AI: a, Send: a.Method("send")}
}

// Actor is the session actor; register it as "agent".
func (a *Agent) Actor() *zocket.Actor[State, zocket.NoData] {
	return zocket.NewActor[State]().Methods(a.Send, Expire)
}

// StopActor is the actor whose stop() stops a session's run; register it
// as "agentStop" (agentStop/<session>.stop()).
func (a *Agent) StopActor() *zocket.Actor[ai.StopState, zocket.NoData] { return a.AI.StopActor() }
