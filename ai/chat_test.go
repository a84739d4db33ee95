package ai_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/ai"
	"github.com/zocket-go/zocket/ai/replay"
)

// chatServer serves tc's agent at /api/chat.
func chatServer(t *testing.T, tc *testChat) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/api/chat", ai.ChatHandler(tc.app, "chat", tc.send, ai.ChatOptions{}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// userBody is what useChat's default transport posts for a new message.
func userBody(id, text string) string {
	b, _ := json.Marshal(map[string]any{
		"id":      id,
		"trigger": "submit-message",
		"messages": []any{map[string]any{"id": "u1", "role": "user",
			"parts": []any{map[string]any{"type": "text", "text": text}}}},
	})
	return string(b)
}

// events reads a UI message stream: the data of every event.
func events(t *testing.T, body io.Reader) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(body)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			out = append(out, data)
		}
	}
	require.NoError(t, sc.Err())
	return out
}

func TestChatHandler_StreamsARunAsTheUIMessageStream(t *testing.T) {
	tc := newTestChat(t, replay.Script(replay.Answer("Hello there.")), nil)
	srv := chatServer(t, tc)
	resp, err := http.Post(srv.URL+"/api/chat", "application/json", strings.NewReader(userBody("c1", "hi")))
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	assert.Equal(t, "v1", resp.Header.Get("x-vercel-ai-ui-message-stream"))
	assert.Equal(t, []string{
		`{"type":"start","messageId":"m2"}`,
		`{"type":"start-step"}`,
		`{"type":"text-start","id":"m2"}`,
		`{"type":"text-delta","id":"m2","delta":"Hello"}`,
		`{"type":"text-delta","id":"m2","delta":" there."}`,
		`{"type":"text-end","id":"m2"}`,
		`{"type":"finish-step"}`,
		`{"type":"finish","finishReason":"stop"}`,
		`[DONE]`,
	}, events(t, resp.Body))

	st := stateOf(t, tc, "c1")
	require.Len(t, st.Conv.Messages, 2, "the conversation is the actor's")
	assert.Equal(t, "Hello there.", st.Conv.Messages[1].Text)
}

func TestChatHandler_AnswersAMalformedRequestWith400AndTheReason(t *testing.T) {
	tc := newTestChat(t, replay.Script(), nil)
	srv := chatServer(t, tc)
	for body, want := range map[string]string{
		`{"id":`:                        "invalid chat request: unexpected EOF",
		`{"messages":[]}`:               "invalid chat request: id is required",
		`{"id":"c1","messages":[]}`:     "invalid chat request: messages is empty",
		`{"id":"c1","trigger":"dance"}`: `invalid chat request: unsupported trigger "dance"`,
		`{"id":"c1","messages":[{"role":"assistant","parts":[{"type":"text","text":"x"}]}]}`: "invalid chat request: the last message must be a user message with text",
		`{"id":"c1","messages":[{"role":"user","parts":[{"type":"file","url":"x"}]}]}`:       "invalid chat request: the last message must be a user message with text",
		userBody("c1", strings.Repeat("x", 100_001)):                                         "Too big: expected at most 100000 characters",
	} {
		resp, err := http.Post(srv.URL+"/api/chat", "application/json", strings.NewReader(body))
		require.NoError(t, err)
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, want)
		assert.Contains(t, string(msg), want)
	}
	assert.Empty(t, tc.provider().Requests(), "nothing reached the model")

	resp, err := http.Get(srv.URL + "/api/chat")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode, "no stream to resume")
}

func TestChatHandler_AFailedRunEndsWithAnErrorChunk(t *testing.T) {
	tc := newTestChat(t, replay.Script(replay.Turn{Err: context.DeadlineExceeded}), nil)
	srv := chatServer(t, tc)
	resp, err := http.Post(srv.URL+"/api/chat", "application/json", strings.NewReader(userBody("c1", "hi")))
	require.NoError(t, err)
	defer resp.Body.Close()
	evs := events(t, resp.Body)
	require.GreaterOrEqual(t, len(evs), 2)
	assert.Equal(t, `{"type":"error","errorText":"ai: model: context deadline exceeded"}`, evs[len(evs)-2])
	assert.Equal(t, `[DONE]`, evs[len(evs)-1])
}

// held is a model that says "first", then waits for release (or for its
// run to be cancelled) before " second"; its next answer is "ok".
func held(release <-chan struct{}) *replay.Provider {
	answer := replay.Answer("first second")
	answer.Hold, answer.HoldAt = release, 1
	return replay.Script(answer, replay.Answer("ok"))
}

func TestChatHandler_TheClientGoingAwayDoesNotStopTheRun(t *testing.T) {
	release := make(chan struct{})
	tc := newTestChat(t, held(release), nil)
	returned := make(chan struct{})
	h := ai.ChatHandler(tc.app, "chat", tc.send, ai.ChatOptions{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		close(returned)
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/api/chat", strings.NewReader(userBody("c1", "hi")))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() && !strings.Contains(sc.Text(), "text-delta") {
	}
	cancel() // the tab closes mid-answer
	resp.Body.Close()
	<-returned // the server saw the client go
	close(release)

	// A second message queues behind the run in the conversation's
	// mailbox: when it is answered, the first run has ended.
	_, err = tc.send.Invoke(t.Context(), tc.app, "chat", "c1", ai.Prompt{Text: "again"})
	require.NoError(t, err)
	st := stateOf(t, tc, "c1")
	assert.Equal(t, "first second", st.Conv.Messages[1].Text)
	assert.Equal(t, ai.StatusDone, st.Conv.Messages[1].Status)
}

func (tc *testChat) provider() *replay.Provider { return tc.agent.Provider.(*replay.Provider) }

func TestChatHandler_RefusesABodyOverTheLimitWith413(t *testing.T) {
	tc := newTestChat(t, replay.Script(), nil)
	srv := httptest.NewServer(ai.ChatHandler(tc.app, "chat", tc.send, ai.ChatOptions{MaxBody: 100}))
	defer srv.Close()
	resp, err := http.Post(srv.URL, "application/json", strings.NewReader(userBody("c1", strings.Repeat("x", 200))))
	require.NoError(t, err)
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	assert.Contains(t, string(msg), "request body too large")
}
