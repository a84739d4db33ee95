package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/ai"
	"github.com/zocket-go/zocket/ai/anthropic"
	"github.com/zocket-go/zocket/ai/openai"
	"github.com/zocket-go/zocket/client"
	"github.com/zocket-go/zocket/examples/agent/agent"
	"github.com/zocket-go/zocket/internal/testsupport/wstest"
	"github.com/zocket-go/zocket/zockettest"
)

// In a synctest bubble with an in-memory server: the fake model's pace and
// the patch throttle run on the bubble's fake clock.
func TestAgent_StreamsTheAnswerCallsTheToolsActorAndExpires(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ag := agent.New(agent.Fake(15*time.Millisecond), 150*time.Millisecond)
		app := zocket.NewApp().Register("agent", ag.Actor()).Register("agentStop", ag.StopActor()).Register("tools", agent.Tools())
		defer app.Close(context.Background())
		c := zockettest.NewServer(app, zockettest.Options{}).Client(t, client.Options{})
		h := c.Actor("agent", "s1")
		defer h.Release()

		var mu sync.Mutex
		var states []agent.State
		off := client.OnState(h, func(s agent.State) { mu.Lock(); states = append(states, s); mu.Unlock() })
		defer off()

		var text strings.Builder
		res, err := client.CallStream(t.Context(), h, ag.Send, ai.Prompt{Text: "what is an actor"},
			func(ch ai.Chunk) { text.WriteString(ch.Delta) })
		require.NoError(t, err)
		answer := res.Message.Text
		assert.Equal(t, answer, text.String(), "the chunks' deltas add up to the answer")
		assert.Contains(t, answer, "(4 words)", "the tools actor counted the prompt")

		synctest.Wait()
		mu.Lock()
		seen := append([]agent.State(nil), states...)
		mu.Unlock()
		partial := 0
		for _, s := range seen {
			if ms := s.Conversation.Messages; len(ms) == 4 && ms[3].FullText() != "" && ms[3].FullText() != answer {
				partial++
			}
		}
		assert.Greater(t, partial, 0, "subscribers saw the answer grow")
		roles := []ai.Role{}
		st := seen[len(seen)-1]
		for _, m := range st.Conversation.Messages {
			roles = append(roles, m.Role)
		}
		assert.Equal(t, []ai.Role{ai.RoleUser, ai.RoleAssistant, ai.RoleTool, ai.RoleAssistant}, roles)

		assert.False(t, st.Expired)
		time.Sleep(149 * time.Millisecond) // just short of the idle time, on the fake clock
		synctest.Wait()
		st, _, err = client.StateOf[agent.State](h)
		require.NoError(t, err)
		assert.False(t, st.Expired, "still within the idle time")
		time.Sleep(time.Millisecond)
		synctest.Wait()
		st, _, err = client.StateOf[agent.State](h)
		require.NoError(t, err)
		assert.True(t, st.Expired, "idle for the idle time")

		tools, err := c.Actor("tools", "s1").Call(t.Context(), "wordCount", agent.Text{Text: "a b"})
		require.NoError(t, err)
		assert.JSONEq(t, `{"words":2}`, string(tools))
	})
}

// A client that does not know rpc:stream (like the TS client) still gets
// the final result: it just skips the chunk frames.
func TestRawClientIgnoringChunksGetsResult(t *testing.T) {
	url := wstest.Serve(t, serve)
	r := wstest.DialWelcome(t, url)
	res := r.Call("agent", "s2", "send", map[string]any{"text": "hi"})
	result, _ := res["result"].(map[string]any)
	message, _ := result["message"].(map[string]any)
	assert.Contains(t, message["text"], "You asked about")
}

func TestProvider_IsChosenByFlagWithKeysFromTheEnvironment(t *testing.T) {
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	none := env(nil)

	p, err := provider("fake", "", none)
	require.NoError(t, err)
	assert.NotNil(t, p)

	_, err = provider("openai", "", none)
	assert.True(t, errors.Is(err, errNoKey), "%v", err)
	p, err = provider("openai", "", env(map[string]string{"OPENAI_API_KEY": "sk-x"}))
	require.NoError(t, err)
	assert.IsType(t, &openai.Provider{}, p)
	p, err = provider("openai", "llama3.2", env(map[string]string{"OPENAI_BASE_URL": "http://127.0.0.1:11434/v1"}))
	require.NoError(t, err, "a local server needs no key")
	assert.IsType(t, &openai.Provider{}, p)

	_, err = provider("anthropic", "", none)
	assert.True(t, errors.Is(err, errNoKey), "%v", err)
	p, err = provider("anthropic", "", env(map[string]string{"ANTHROPIC_API_KEY": "sk-ant-x"}))
	require.NoError(t, err)
	assert.IsType(t, &anthropic.Provider{}, p)

	_, err = provider("gpt5", "", none)
	assert.ErrorContains(t, err, "want fake, openai or anthropic")
}

// useChat's endpoint and the stop endpoint share the port with the
// WebSocket server and the page.
func TestServe_AnswersUseChatOverHTTP(t *testing.T) {
	base := strings.Replace(wstest.Serve(t, serve), "ws://", "http://", 1)
	body := `{"id":"s3","trigger":"submit-message","messages":[{"id":"u1","role":"user","parts":[{"type":"text","text":"hi there"}]}]}`
	resp, err := http.Post(base+"/api/chat", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "v1", resp.Header.Get("x-vercel-ai-ui-message-stream"))
	stream, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Contains(t, string(stream), `"type":"tool-output-available","toolCallId":"call_1","output":{"words":2}`)
	assert.True(t, strings.HasSuffix(string(stream), "data: [DONE]\n\n"))

	resp, err = http.Post(base+"/api/chat/s3/stop", "application/json", nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	stopped, _ := io.ReadAll(resp.Body)
	assert.JSONEq(t, `{"stopped":false}`, string(stopped), "the answer is complete: nothing to stop")

	page, err := http.Get(base + "/")
	require.NoError(t, err)
	defer page.Body.Close()
	html, _ := io.ReadAll(page.Body)
	assert.Contains(t, string(html), "zocket agent")
}
