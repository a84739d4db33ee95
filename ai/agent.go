package ai

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/go-playground/validator/v10"

	"github.com/zocket-go/zocket"
)

// Defaults of an Agent's zero fields.
const (
	DefaultMaxSteps = 8
	DefaultTimeout  = 5 * time.Minute
)

// Prompt is the input of an agent's method.
type Prompt struct {
	// Text is the user's message; required unless Regenerate.
	Text string `json:"text,omitempty" validate:"required_unless=Regenerate true,max=100000"`
	// Regenerate drops the messages after the last user message and
	// generates the answer to it again.
	Regenerate bool `json:"regenerate,omitempty"`
}

// Result is the result of an agent's method.
type Result struct {
	// Message is the final assistant message (after the last tool step).
	Message Message `json:"message"`
	// Usage counts the tokens of this run's model turns.
	Usage        Usage        `json:"usage"`
	FinishReason FinishReason `json:"finishReason"`
}

// FinishStopped is the FinishReason of a run that Agent.Stop stopped (not
// one of the AI SDK's).
const FinishStopped FinishReason = "stopped"

// Agent turns a Provider into a streaming method of a conversation actor
// (Agent.Method). One Agent serves one actor type; it may be shared by
// the type's instances and by several Apps. Set its fields before
// registering the method; they are read-only afterwards.
type Agent[S, C any] struct {
	// Provider is the model. Required.
	Provider Provider
	// Conversation returns the conversation inside the actor's state (the
	// draft the method is mutating). Required.
	Conversation func(state *S) *Conversation
	// System is the system prompt.
	System string
	// Tools are the tools the model may call.
	Tools []Tool
	// MaxSteps bounds the model turns of one run (each tool round is a
	// turn); 0 means DefaultMaxSteps.
	MaxSteps int
	// Timeout bounds a whole run, tools included; 0 means DefaultTimeout.
	Timeout time.Duration
	// FlushEvery is the method's streaming interval: subscribers get at
	// most one patch per interval; 0 means zocket.DefaultStreamInterval.
	FlushEvery time.Duration
	// Logger logs tool panics; nil logs nothing.
	Logger *slog.Logger
	// ErrorText is what subscribers and the caller's chunks see of a
	// failed run's error: the failed message's Error and the error chunk.
	// Nil shows err.Error(), which may carry a provider's details; with
	// zocket.WithPublicErrorsOnly (which only governs the call's result),
	// set it too.
	ErrorText func(err error) string
	// Done, if set, runs at the end of every run, inside the method: it
	// may change the state, set timers, emit events. err is the run's
	// error (res is then zero).
	Done func(c *zocket.Context[S, C], res Result, err error)

	runs      runs
	validOnce sync.Once
	valid     *validator.Validate
}

// Method is the streaming method that runs the agent: it appends the
// user's message (Prompt.Text) and an assistant message whose text grows
// as the model's tokens arrive (subscribers get patches, at most one per
// FlushEvery), sends the caller the run as Chunk values (rpc:stream
// chunks), runs the tools the model calls and gives their results back to
// the model (an assistant message and a tool message per call and turn),
// and returns the final assistant message and the run's usage.
//
// A run ends when the model answers without calling tools, after MaxSteps
// turns, when Stop stops it (the result then has FinishReason
// FinishStopped and the message StatusStopped; not an error), when it
// reaches Timeout (ErrTimeout), or when the provider fails (its error,
// wrapped). On an error the messages stay in the state, the last
// assistant message marked StatusFailed with the error's text: nothing is
// rolled back, since subscribers have already seen the partial answer.
// The actor goes on serving.
//
// The run's context is the call's: for a connection's call it is the
// App's, so the caller going away does not stop the run (other
// subscribers are still watching); for App.Invoke it is the invoker's
// context (ChatHandler detaches it from the HTTP request).
//
// Like App.Register, it panics on a programming error: a nil Provider or
// Conversation.
func (a *Agent[S, C]) Method(name string) *zocket.MethodDef[S, C, Prompt, Result] {
	switch {
	case a.Provider == nil:
		panic(fmt.Sprintf("ai: Agent.Method(%q): Provider is nil", name))
	case a.Conversation == nil:
		panic(fmt.Sprintf("ai: Agent.Method(%q): Conversation is nil", name))
	}
	every := a.FlushEvery
	if every <= 0 {
		every = zocket.DefaultStreamInterval
	}
	return zocket.Method(name, func(c *zocket.Context[S, C], in Prompt) (Result, error) {
		return a.run(c, in, every)
	}).Streaming(methodGap)
}

// methodGap is the streaming interval of an agent's method, the shortest
// there is: the run keeps FlushEvery itself, since it must know which
// flush publishes.
const methodGap = time.Nanosecond

// Stop stops the run in progress in conversation (app, conversationID),
// if any, and reports whether there was one. It does not go through the
// conversation's mailbox (the run occupies it), so it takes effect at
// once: call it from an HTTP handler, another actor, or the method of
// StopActor.
func (a *Agent[S, C]) Stop(app *zocket.App, conversationID string) bool {
	return a.runs.stop(runKey{app, conversationID})
}

// StopAll stops every run in progress in app and returns how many there
// were. Call it before App.Close: runs started with App.Invoke (such as
// ChatHandler's) have contexts that Close does not cancel.
func (a *Agent[S, C]) StopAll(app *zocket.App) int { return a.runs.stopAll(app) }

// StopActor is a small actor whose method stop(), called on instance id,
// stops the run in conversation id of the same App. Register it next to
// the conversation actor (say "chat" and "chatStop"): a client calls
// chatStop/<id>.stop() while chat/<id> is busy generating.
func (a *Agent[S, C]) StopActor() *zocket.Actor[StopState, zocket.NoData] {
	stop := zocket.MethodNoInput("stop", func(c *zocket.Context[StopState, zocket.NoData]) (Stopped, error) {
		return Stopped{Stopped: a.Stop(c.App(), c.ActorID)}, nil
	})
	return zocket.NewActor[StopState]().Methods(stop)
}

func (a *Agent[S, C]) validator() *validator.Validate {
	a.validOnce.Do(func() { a.valid = validator.New(validator.WithRequiredStructEnabled()) })
	return a.valid
}

func (a *Agent[S, C]) run(c *zocket.Context[S, C], in Prompt, every time.Duration) (Result, error) {
	conv := a.Conversation(c.State)
	conv.settle()
	if in.Regenerate {
		last := conv.lastUser()
		if last < 0 {
			return Result{}, zocket.PublicError(errors.New("ai: nothing to regenerate: no user message"))
		}
		conv.Messages = conv.Messages[:last+1]
	} else {
		conv.add(Message{Role: RoleUser, Text: in.Text})
	}
	timeout := a.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithCancelCause(c.Context())
	defer cancel(nil)
	ctx, cancelTimeout := context.WithTimeoutCause(ctx, timeout, ErrTimeout)
	defer cancelTimeout()
	k := runKey{c.App(), c.ActorID}
	r := a.runs.start(k, cancel)
	defer a.runs.end(k, r)

	conv.Generating = true
	t := &turns[S, C]{agent: a, c: c, conv: conv, ctx: ctx, env: ToolEnv{App: c.App(), ConversationID: c.ActorID},
		current: -1, every: every, idle: newIdleTimer(every)}
	res, err := t.loop()
	conv.Generating = false
	text := ""
	if err != nil {
		text = err.Error()
		if a.ErrorText != nil {
			text = a.ErrorText(err)
		}
		if i := t.current; i >= 0 {
			end(&conv.Messages[i], StatusFailed)
			conv.Messages[i].Error = text
		}
	}
	if a.Done != nil {
		a.Done(c, res, err)
	}
	if err != nil {
		t.send(Chunk{Type: ChunkError, ErrorText: text})
		// A failed call keeps what was flushed and discards the rest: this
		// flush commits the failed mark too, once the method's own
		// interval (methodGap, not the run's) has passed since the last.
		time.Sleep(methodGap)
		c.Flush()
		return Result{}, err
	}
	return res, nil
}
