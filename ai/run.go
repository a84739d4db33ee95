package ai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/zocket-go/zocket"
)

// turns is one run of an Agent: the model turns and tool calls of one
// method call.
type turns[S, C any] struct {
	agent   *Agent[S, C]
	c       *zocket.Context[S, C]
	conv    *Conversation
	ctx     context.Context
	env     ToolEnv
	current int // the assistant message being generated; -1 before the first
	usage   Usage
	texted  bool            // the current message has text
	piece   strings.Builder // the current message's last piece, if the draft's flushes have not published it yet
	every   time.Duration   // the streaming interval
	flushed time.Time       // when the draft was last published; zero before
	idle    *idleTimer
}

// flush publishes the draft if the streaming interval has passed since it
// was last published. The run keeps the interval itself (the method's
// own is the shortest there is), since it must know which flush
// published: the next delta then starts a new piece, instead of growing
// one that subscribers already have, which a patch could only replace.
func (t *turns[S, C]) flush() {
	now := time.Now()
	if !t.flushed.IsZero() && now.Sub(t.flushed) < t.every {
		return
	}
	t.flushed = now
	t.c.Flush()
	t.piece.Reset()
}

// grow appends text to the current message: to its last piece, or to a
// new piece if that one was published.
func (t *turns[S, C]) grow(text string) {
	m := &t.conv.Messages[t.current]
	if t.piece.Len() == 0 {
		m.Pieces = append(m.Pieces, "")
	}
	t.piece.WriteString(text)
	m.Pieces[len(m.Pieces)-1] = t.piece.String()
}

// recv waits for ch's value. If the wait lasts a streaming interval
// (idle's), it flushes the draft: Flush publishes at most once per
// interval, so the last changes before a silent model or a slow tool
// would otherwise wait for the next one.
func recv[T any](idle *idleTimer, flush func(), ch <-chan T) T {
	idle.t.Reset(idle.every)
	defer idle.t.Stop()
	for {
		select {
		case v := <-ch:
			return v
		case <-idle.t.C:
			flush()
		}
	}
}

// idleTimer is a run's timer for recv.
type idleTimer struct {
	t     *time.Timer
	every time.Duration
}

func newIdleTimer(every time.Duration) *idleTimer {
	t := time.NewTimer(every)
	t.Stop()
	return &idleTimer{t: t, every: every}
}

func (t *turns[S, C]) send(ch Chunk) {
	_ = t.c.SendChunk(ch) // fails only for an unencodable chunk, which Chunk is not
}

// loop runs model turns until the model answers without tools.
func (t *turns[S, C]) loop() (Result, error) {
	t.current = -1
	maxSteps := t.agent.MaxSteps
	if maxSteps <= 0 {
		maxSteps = DefaultMaxSteps
	}
	tools := make([]ToolSpec, len(t.agent.Tools))
	for i, tool := range t.agent.Tools {
		tools[i] = tool.Spec
	}
	reason := FinishOther
	for step := 0; step < maxSteps; step++ {
		t.current = t.conv.add(Message{Role: RoleAssistant, Status: StatusStreaming})
		if step == 0 {
			t.send(Chunk{Type: ChunkStart, MessageID: t.conv.Messages[t.current].ID})
		}
		t.send(Chunk{Type: ChunkStartStep})
		t.flush()
		req := Request{System: t.agent.System, Messages: history(t.conv.Messages[:t.current]), Tools: tools}
		calls, r, err := t.turn(req)
		if err != nil {
			return t.ended(err)
		}
		reason = r
		end(&t.conv.Messages[t.current], StatusDone)
		if len(calls) == 0 {
			t.send(Chunk{Type: ChunkFinishStep})
			break
		}
		for _, call := range calls {
			if err := t.ctx.Err(); err != nil {
				return t.ended(err)
			}
			t.callTool(call)
		}
		t.send(Chunk{Type: ChunkFinishStep})
	}
	t.send(Chunk{Type: ChunkFinish, FinishReason: reason})
	return Result{Message: t.conv.Messages[t.current], Usage: t.usage, FinishReason: reason}, nil
}

// ended ends the run on err: a stop is a result, anything else an error.
func (t *turns[S, C]) ended(err error) (Result, error) {
	switch cause := context.Cause(t.ctx); {
	case errors.Is(cause, ErrStopped):
		m := &t.conv.Messages[t.current]
		end(m, StatusStopped)
		t.send(Chunk{Type: ChunkAbort})
		return Result{Message: *m, Usage: t.usage, FinishReason: FinishStopped}, nil
	case errors.Is(cause, ErrTimeout):
		return Result{}, ErrTimeout
	case cause != nil:
		return Result{}, fmt.Errorf("ai: run cancelled: %w", cause)
	}
	return Result{}, err
}

// next is a model turn's next event, or the error that ended it (io.EOF
// at the normal end).
type next struct {
	ev  Event
	err error
}

// read runs a model turn on its own goroutine, so that the method's
// goroutine can publish the draft while the model is silent: it sends
// every event, then the error that ended the turn, and returns.
func (t *turns[S, C]) read(req Request, out chan<- next) {
	ended := false // the error that ends the turn was sent
	defer func() { // off the mailbox's goroutine, a provider's panic would end the process
		if p := recover(); p != nil && !ended {
			out <- next{err: fmt.Errorf("provider panicked: %v", p)}
		}
	}()
	stream, err := t.agent.Provider.Stream(t.ctx, req)
	if err != nil {
		ended = true
		out <- next{err: err}
		return
	}
	defer stream.Close()
	for {
		ev, err := stream.Next()
		ended = err != nil
		out <- next{ev, err}
		if ended {
			return
		}
	}
}

// turn streams one model turn into the current assistant message.
func (t *turns[S, C]) turn(req Request) ([]ToolCall, FinishReason, error) {
	events := make(chan next, 64)
	go t.read(req, events) // returns after sending the error this loop ends on
	id := t.conv.Messages[t.current].ID
	t.texted = false
	t.piece.Reset()
	var turnUsage Usage
	defer func() { t.usage = t.usage.Add(turnUsage); t.conv.Usage = t.conv.Usage.Add(turnUsage) }()
	reason := FinishOther
	for {
		n := recv(t.idle, t.flush, events)
		ev, err := n.ev, n.err
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.endText(id)
			return nil, "", fmt.Errorf("ai: model: %w", err)
		}
		switch ev.Type {
		case TextDelta:
			if ev.Text == "" {
				continue
			}
			if !t.texted {
				t.texted = true
				t.send(Chunk{Type: ChunkTextStart, ID: id})
			}
			t.grow(ev.Text)
			t.send(Chunk{Type: ChunkTextDelta, ID: id, Delta: ev.Text})
			t.flush()
		case ToolCallDone:
			m := &t.conv.Messages[t.current]
			m.ToolCalls = append(m.ToolCalls, ev.ToolCall)
		case UsageReport:
			turnUsage = ev.Usage
		case Finished:
			reason = ev.FinishReason
		}
	}
	t.endText(id)
	return t.conv.Messages[t.current].ToolCalls, reason, nil
}

func (t *turns[S, C]) endText(id string) {
	if t.texted {
		t.send(Chunk{Type: ChunkTextEnd, ID: id})
	}
}

// callTool runs one tool call and appends its result as a tool message.
func (t *turns[S, C]) callTool(call ToolCall) {
	input := json.RawMessage(call.Arguments)
	if !json.Valid(input) {
		input, _ = json.Marshal(call.Arguments)
	}
	t.send(Chunk{Type: ChunkToolInput, ToolCallID: call.ID, ToolName: call.Name, Input: input})
	done := make(chan toolResult, 1)
	go func() { // a slow tool must not hide what came before it either
		out, err := t.runTool(call)
		done <- toolResult{out, err}
	}()
	res := recv(t.idle, t.flush, done)
	out, err := res.out, res.err
	msg := Message{Role: RoleTool, ToolCallID: call.ID, ToolName: call.Name}
	if err != nil {
		msg.Text, msg.IsError = err.Error(), true
		t.send(Chunk{Type: ChunkToolOutputErr, ToolCallID: call.ID, ErrorText: msg.Text})
	} else {
		msg.Text = string(out)
		t.send(Chunk{Type: ChunkToolOutput, ToolCallID: call.ID, Output: out})
	}
	t.conv.add(msg)
	t.flush()
}

type toolResult struct {
	out json.RawMessage
	err error
}

func (t *turns[S, C]) runTool(call ToolCall) (out json.RawMessage, err error) {
	var tool *Tool
	for i := range t.agent.Tools {
		if t.agent.Tools[i].Spec.Name == call.Name {
			tool = &t.agent.Tools[i]
		}
	}
	if tool == nil {
		return nil, fmt.Errorf("unknown tool %q", call.Name)
	}
	defer func() {
		if p := recover(); p != nil {
			if t.agent.Logger != nil {
				t.agent.Logger.Error("ai: tool panicked", "tool", call.Name, "panic", p)
			}
			out, err = nil, fmt.Errorf("tool %s failed", call.Name)
		}
	}()
	return tool.run(t.ctx, t.env, t.agent.validator(), call.Arguments)
}
