package ai_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/ai"
	"github.com/zocket-go/zocket/ai/replay"
	"github.com/zocket-go/zocket/client"
	"github.com/zocket-go/zocket/zockettest"
)

// chatState is a conversation actor's state: the conversation and
// whatever else the application keeps.
type chatState struct {
	Title string          `json:"title"`
	Conv  ai.Conversation `json:"conv"`
}

type chatCtx = zocket.Context[chatState, zocket.NoData]

func conversation(s *chatState) *ai.Conversation { return &s.Conv }

// testChat is an App with a conversation actor "chat" run by agent (its
// method "send"), the stop actor "chatStop" and the tools actor "tools".
type testChat struct {
	app   *zocket.App
	agent *ai.Agent[chatState, zocket.NoData]
	send  *zocket.MethodDef[chatState, zocket.NoData, ai.Prompt, ai.Result]
	srv   *zockettest.Server
}

func newTestChat(t *testing.T, p ai.Provider, configure func(*ai.Agent[chatState, zocket.NoData]), opts ...zocket.Option) *testChat {
	t.Helper()
	a := &ai.Agent[chatState, zocket.NoData]{Provider: p, Conversation: conversation}
	if configure != nil {
		configure(a)
	}
	send := a.Method("send")
	app := zocket.NewApp(opts...).
		Register("chat", zocket.NewActor[chatState]().Methods(send)).
		Register("chatStop", a.StopActor()).
		Register("tools", tools())
	t.Cleanup(func() { _ = app.Close(context.Background()) })
	return &testChat{app: app, agent: a, send: send, srv: zockettest.NewServer(app, zockettest.Options{})}
}

// watch subscribes a client to chat/id and records every state it sees.
type watch struct {
	mu     sync.Mutex
	states []chatState
}

func (w *watch) all() []chatState {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]chatState(nil), w.states...)
}

func (tc *testChat) watch(t *testing.T, h *client.Handle) *watch {
	w := &watch{}
	off := client.OnState(h, func(s chatState) { w.mu.Lock(); w.states = append(w.states, s); w.mu.Unlock() })
	t.Cleanup(off)
	return w
}

func chunkTypes(chunks []ai.Chunk) []string {
	var out []string
	for _, c := range chunks {
		if len(out) > 0 && c.Type == ai.ChunkTextDelta && out[len(out)-1] == ai.ChunkTextDelta {
			continue // a run of deltas counts once
		}
		out = append(out, c.Type)
	}
	return out
}

func TestAgent_StreamsTheAnswerIntoStateAndToTheCaller(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := replay.Script(replay.Answer("Actors own their state and run one call at a time."))
		p.Pace = 20 * time.Millisecond
		tc := newTestChat(t, p, nil)
		c := tc.srv.Client(t, client.Options{})
		h := c.Actor("chat", "c1")
		defer h.Release()
		w := tc.watch(t, h)

		var chunks []ai.Chunk
		res, err := client.CallStream(t.Context(), h, tc.send, ai.Prompt{Text: "what is an actor?"},
			func(ch ai.Chunk) { chunks = append(chunks, ch) })
		require.NoError(t, err)

		answer := "Actors own their state and run one call at a time."
		assert.Equal(t, answer, res.Message.Text)
		assert.Equal(t, ai.StatusDone, res.Message.Status)
		assert.Equal(t, ai.FinishStop, res.FinishReason)
		assert.Equal(t, ai.Usage{InputTokens: 10, OutputTokens: 11}, res.Usage)

		assert.Equal(t, []string{"start", "start-step", "text-start", "text-delta", "text-end", "finish-step", "finish"},
			chunkTypes(chunks))
		var deltas strings.Builder
		for _, ch := range chunks {
			deltas.WriteString(ch.Delta)
		}
		assert.Equal(t, answer, deltas.String(), "the deltas add up to the answer")
		assert.Equal(t, res.Message.ID, chunks[0].MessageID)

		synctest.Wait()
		st, _, err := client.StateOf[chatState](h)
		require.NoError(t, err)
		require.Len(t, st.Conv.Messages, 2)
		assert.Equal(t, ai.Message{ID: "m1", Role: ai.RoleUser, Text: "what is an actor?"}, st.Conv.Messages[0])
		assert.Equal(t, res.Message, st.Conv.Messages[1])
		assert.False(t, st.Conv.Generating)
		assert.Equal(t, res.Usage, st.Conv.Usage)

		partial := 0
		for _, s := range w.all() {
			if len(s.Conv.Messages) == 2 && s.Conv.Generating && s.Conv.Messages[1].FullText() != "" &&
				s.Conv.Messages[1].FullText() != answer {
				partial++
			}
		}
		assert.Greater(t, partial, 1, "subscribers saw the answer grow while it streamed")
	})
}

func TestAgent_GivesTheModelTheWholeConversation(t *testing.T) {
	p := replay.Script(replay.Answer("first answer"), replay.Answer("second answer"))
	tc := newTestChat(t, p, func(a *ai.Agent[chatState, zocket.NoData]) { a.System = "be brief" })
	ctx := t.Context()
	_, err := tc.send.Invoke(ctx, tc.app, "chat", "c1", ai.Prompt{Text: "one"})
	require.NoError(t, err)
	_, err = tc.send.Invoke(ctx, tc.app, "chat", "c1", ai.Prompt{Text: "two"})
	require.NoError(t, err)

	reqs := p.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "be brief", reqs[1].System)
	var texts []string
	for _, m := range reqs[1].Messages {
		texts = append(texts, string(m.Role)+": "+m.Text)
	}
	assert.Equal(t, []string{"user: one", "assistant: first answer", "user: two"}, texts,
		"the assistant message being generated is not sent")
}

func TestAgent_RegenerateReplacesTheLastAnswer(t *testing.T) {
	p := replay.Script(replay.Answer("meh"), replay.Answer("better"))
	tc := newTestChat(t, p, nil)
	ctx := t.Context()
	_, err := tc.send.Invoke(ctx, tc.app, "chat", "c1", ai.Prompt{Text: "hi"})
	require.NoError(t, err)
	res, err := tc.send.Invoke(ctx, tc.app, "chat", "c1", ai.Prompt{Regenerate: true})
	require.NoError(t, err)
	assert.Equal(t, "better", res.Message.Text)
	assert.Equal(t, "m3", res.Message.ID, "a regenerated message gets a new id")

	_, err = tc.send.Invoke(ctx, tc.app, "chat", "empty", ai.Prompt{Regenerate: true})
	require.ErrorContains(t, err, "nothing to regenerate")
	_, err = tc.send.Invoke(ctx, tc.app, "chat", "c1", ai.Prompt{})
	require.Error(t, err, "a prompt without text is refused")
}

func TestAgent_ProviderErrorMidStreamFailsTheCallKeepsThePartialAnswerAndTheActorServing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		broken := replay.Answer("this answer will break")
		broken.Events = broken.Events[:3]
		broken.Err = errors.New("overloaded_error: Overloaded")
		p := replay.Script(broken, replay.Answer("fine now"))
		tc := newTestChat(t, p, nil)
		c := tc.srv.Client(t, client.Options{})
		h := c.Actor("chat", "c1")
		defer h.Release()

		var chunks []ai.Chunk
		_, err := client.CallStream(t.Context(), h, tc.send, ai.Prompt{Text: "go"},
			func(ch ai.Chunk) { chunks = append(chunks, ch) })
		require.Error(t, err)
		assert.Contains(t, err.Error(), "ai: model: overloaded_error: Overloaded")
		require.NotEmpty(t, chunks)
		assert.Equal(t, ai.Chunk{Type: ai.ChunkError, ErrorText: "ai: model: overloaded_error: Overloaded"}, chunks[len(chunks)-1])

		st := stateOf(t, tc, "c1")
		require.Len(t, st.Conv.Messages, 2)
		failed := st.Conv.Messages[1]
		assert.Equal(t, ai.StatusFailed, failed.Status)
		assert.Equal(t, "this answer will", failed.Text, "the partial answer stays")
		assert.Equal(t, "ai: model: overloaded_error: Overloaded", failed.Error)
		assert.False(t, st.Conv.Generating)

		res, err := client.Call(t.Context(), h, tc.send, ai.Prompt{Text: "again"})
		require.NoError(t, err, "the actor goes on serving")
		assert.Equal(t, "fine now", res.Message.Text)
	})
}

func TestAgent_StopActorStopsTheRunWhileItOccupiesTheMailbox(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := replay.Script(replay.Answer("one two three four five six seven eight"))
		p.Pace = time.Second
		tc := newTestChat(t, p, nil)
		c := tc.srv.Client(t, client.Options{})
		h := c.Actor("chat", "c1")
		defer h.Release()

		type outcome struct {
			res ai.Result
			err error
		}
		done := make(chan outcome, 1)
		firstDelta := make(chan struct{})
		var once sync.Once
		go func() {
			res, err := client.CallStream(t.Context(), h, tc.send, ai.Prompt{Text: "count"}, func(ch ai.Chunk) {
				if ch.Type == ai.ChunkTextDelta {
					once.Do(func() { close(firstDelta) })
				}
			})
			done <- outcome{res, err}
		}()
		<-firstDelta
		time.Sleep(1500 * time.Millisecond) // a second delta arrives, on the fake clock

		stop := c.Actor("chatStop", "c1")
		defer stop.Release()
		raw, err := stop.Call(t.Context(), "stop", nil)
		require.NoError(t, err)
		assert.JSONEq(t, `{"stopped":true}`, string(raw))

		o := <-done
		require.NoError(t, o.err, "a stop is not an error")
		assert.Equal(t, ai.FinishStopped, o.res.FinishReason)
		assert.Equal(t, ai.StatusStopped, o.res.Message.Status)
		assert.Equal(t, "one two", o.res.Message.Text)

		raw, err = stop.Call(t.Context(), "stop", nil)
		require.NoError(t, err)
		assert.JSONEq(t, `{"stopped":false}`, string(raw), "nothing left to stop")
	})
}

func TestAgent_CallerDisconnectingDoesNotStopTheRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := replay.Script(replay.Answer("a b c d e"))
		p.Pace = time.Second
		tc := newTestChat(t, p, nil)
		watcher := tc.srv.Client(t, client.Options{})
		h := watcher.Actor("chat", "c1")
		defer h.Release()
		w := tc.watch(t, h)
		synctest.Wait()

		caller := tc.srv.Connect(t, "caller", zocket.Identity{})
		caller.Write(`{"type":"rpc","id":"1","actor":"chat","actorId":"c1","method":"send","input":{"text":"go"}}`)
		time.Sleep(1500 * time.Millisecond)
		caller.Close()
		time.Sleep(10 * time.Second)
		synctest.Wait()

		states := w.all()
		require.NotEmpty(t, states)
		last := states[len(states)-1].Conv.Messages
		require.Len(t, last, 2)
		assert.Equal(t, "a b c d e", last[1].Text)
		assert.Equal(t, ai.StatusDone, last[1].Status)
	})
}

func TestAgent_TimeoutBoundsTheWholeRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := replay.Script(replay.Answer("slow slow slow slow slow"))
		p.Pace = time.Second
		tc := newTestChat(t, p, func(a *ai.Agent[chatState, zocket.NoData]) { a.Timeout = 2500 * time.Millisecond })
		_, err := tc.send.Invoke(t.Context(), tc.app, "chat", "c1", ai.Prompt{Text: "go"})
		require.Error(t, err)
		assert.Equal(t, ai.ErrTimeout.Error(), err.Error())

		st := stateOf(t, tc, "c1")
		assert.Equal(t, ai.StatusFailed, st.Conv.Messages[1].Status)
		assert.Equal(t, "slow slow", st.Conv.Messages[1].Text)
	})
}

// stateOf reads chat/id's state through a fresh client.
func stateOf(t *testing.T, tc *testChat, id string) chatState {
	t.Helper()
	c := tc.srv.Client(t, client.Options{})
	h := c.Actor("chat", id)
	defer h.Release()
	ready := make(chan chatState, 1)
	off := client.OnState(h, func(s chatState) {
		select {
		case ready <- s:
		default:
		}
	})
	defer off()
	return <-ready
}

func TestAgent_DoneRunsInsideTheMethodAfterEveryRun(t *testing.T) {
	broken := replay.Turn{Err: errors.New("down")}
	tc := newTestChat(t, replay.Script(replay.Answer("fine"), broken), func(a *ai.Agent[chatState, zocket.NoData]) {
		a.Done = func(c *chatCtx, res ai.Result, err error) {
			if err != nil {
				c.State.Title = "failed: " + err.Error()
				return
			}
			c.State.Title = "answered: " + res.Message.Text
		}
	})
	_, err := tc.send.Invoke(t.Context(), tc.app, "chat", "c1", ai.Prompt{Text: "hi"})
	require.NoError(t, err)
	assert.Equal(t, "answered: fine", stateOf(t, tc, "c1").Title)
	_, err = tc.send.Invoke(t.Context(), tc.app, "chat", "c1", ai.Prompt{Text: "again"})
	require.Error(t, err)
	assert.Equal(t, "failed: ai: model: down", stateOf(t, tc, "c1").Title, "kept although the call failed")
}

// Flush publishes at most once per interval; a model that goes silent
// right after a delta must not keep that delta from subscribers.
func TestAgent_ASilentModelDoesNotHideTheLastDelta(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		tc := newTestChat(t, held(release), nil)
		c := tc.srv.Client(t, client.Options{})
		h := c.Actor("chat", "c1")
		defer h.Release()
		w := tc.watch(t, h)
		synctest.Wait()

		done := make(chan error, 1)
		go func() {
			_, err := tc.send.Invoke(t.Context(), tc.app, "chat", "c1", ai.Prompt{Text: "hi"})
			done <- err
		}()
		time.Sleep(time.Second) // long after the delta, on the fake clock
		synctest.Wait()
		states := w.all()
		require.NotEmpty(t, states)
		assert.Equal(t, "first", states[len(states)-1].Conv.Messages[1].FullText(), "published while the model is silent")

		close(release)
		require.NoError(t, <-done)
	})
}

func TestAgent_StopAllStopsEveryRunOfTheApp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &replay.Provider{Pace: time.Hour, Respond: func(ai.Request) replay.Turn { return replay.Answer("never") }}
		tc := newTestChat(t, p, nil)
		results := make(chan ai.Result, 2)
		for _, id := range []string{"c1", "c2"} {
			go func() {
				res, err := tc.send.Invoke(t.Context(), tc.app, "chat", id, ai.Prompt{Text: "hi"})
				assert.NoError(t, err)
				results <- res
			}()
		}
		synctest.Wait() // both runs wait for their model
		assert.Equal(t, 2, tc.agent.StopAll(tc.app))
		for range 2 {
			assert.Equal(t, ai.FinishStopped, (<-results).FinishReason)
		}
		assert.Equal(t, 0, tc.agent.StopAll(tc.app))
	})
}

// panicky is a model that panics in the middle of its answer.
type panicky struct{}

func (panicky) Stream(context.Context, ai.Request) (ai.Stream, error) { return &panickyStream{}, nil }

type panickyStream struct{ n int }

func (s *panickyStream) Next() (ai.Event, error) {
	if s.n++; s.n > 1 {
		panic("boom")
	}
	return ai.Event{Type: ai.TextDelta, Text: "so far"}, nil
}

func (s *panickyStream) Close() error { return nil }

func TestAgent_AProviderPanicFailsTheRunNotTheProcess(t *testing.T) {
	tc := newTestChat(t, panicky{}, nil)
	_, err := tc.send.Invoke(t.Context(), tc.app, "chat", "c1", ai.Prompt{Text: "hi"})
	require.EqualError(t, err, "ai: model: provider panicked: boom")
	st := stateOf(t, tc, "c1")
	assert.Equal(t, ai.StatusFailed, st.Conv.Messages[1].Status)
	assert.Equal(t, "so far", st.Conv.Messages[1].Text)
}

// interrupt leaves a conversation as a run does when the process stops
// in the middle (a durable actor's stored state, say).
var interrupt = zocket.MethodNoIO("interrupt", func(c *chatCtx) error {
	c.State.Conv.Generating = true
	c.State.Conv.Messages = append(c.State.Conv.Messages,
		ai.Message{ID: "m1", Role: ai.RoleUser, Text: "hi"},
		ai.Message{ID: "m2", Role: ai.RoleAssistant, Pieces: []string{"ha", "lf"}, Status: ai.StatusStreaming})
	c.State.Conv.Seq = 2
	return nil
})

func TestAgent_TheNextRunMarksAnInterruptedAnswerFailed(t *testing.T) {
	p := replay.Script(replay.Answer("whole"))
	a := &ai.Agent[chatState, zocket.NoData]{Provider: p, Conversation: conversation}
	send := a.Method("send")
	app := zocket.NewApp().Register("chat", zocket.NewActor[chatState]().Methods(send, interrupt))
	defer app.Close(context.Background())
	_, err := zocket.CallNoInput(t.Context(), app.Ref("chat", "c1"), interrupt)
	require.NoError(t, err)
	res, err := send.Invoke(t.Context(), app, "chat", "c1", ai.Prompt{Text: "again"})
	require.NoError(t, err)
	assert.Equal(t, "whole", res.Message.Text)
	assert.Equal(t, []ai.Message{{ID: "m1", Role: ai.RoleUser, Text: "hi"},
		{ID: "m2", Role: ai.RoleAssistant, Text: "half", Status: ai.StatusFailed, Error: "ai: run interrupted"},
		{ID: "m3", Role: ai.RoleUser, Text: "again"}}, p.Requests()[0].Messages)
}

func TestAgent_ErrorTextDecidesWhatClientsSeeOfAFailure(t *testing.T) {
	secret := replay.Turn{Err: errors.New("401 Unauthorized: key sk-live-123 revoked")}
	tc := newTestChat(t, replay.Script(secret), func(a *ai.Agent[chatState, zocket.NoData]) {
		a.ErrorText = func(error) string { return "the model is unavailable" }
	}, zocket.WithPublicErrorsOnly())
	var chunks []ai.Chunk
	ctx := zocket.WithChunks(t.Context(), func(raw json.RawMessage) {
		var ch ai.Chunk
		require.NoError(t, json.Unmarshal(raw, &ch))
		chunks = append(chunks, ch)
	})
	_, err := tc.send.Invoke(ctx, tc.app, "chat", "c1", ai.Prompt{Text: "hi"})
	require.Error(t, err)
	assert.Equal(t, ai.Chunk{Type: ai.ChunkError, ErrorText: "the model is unavailable"}, chunks[len(chunks)-1])
	assert.Equal(t, "the model is unavailable", stateOf(t, tc, "c1").Conv.Messages[1].Error)
}
