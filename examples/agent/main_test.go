package main

import (
	"context"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/client"
	"github.com/zocket-go/zocket/examples/agent/agent"
	"github.com/zocket-go/zocket/internal/testsupport/wstest"
	"github.com/zocket-go/zocket/zockettest"
)

// In a synctest bubble with an in-memory server: the token pace, the
// patch throttle and the idle expiry run on the bubble's fake clock.
func TestAgentStreamsDelegatesAndExpires(t *testing.T) {
	synctest.Test(t, agentStreamsDelegatesAndExpires)
}

func agentStreamsDelegatesAndExpires(t *testing.T) {
	app := zocket.NewApp().Register("agent", agent.Actor()).Register("tools", agent.Tools())
	defer app.Close(context.Background())
	ctx := context.Background()
	c := zockettest.NewServer(app, zockettest.Options{}).Client(t, client.Options{})
	h := c.Actor("agent", "s1")
	defer h.Release()

	var mu sync.Mutex
	var states []agent.State
	off := client.OnState(h, func(s agent.State) { mu.Lock(); states = append(states, s); mu.Unlock() })
	defer off()

	var chunks []string
	answer, err := client.CallStream(ctx, h, agent.AskAgent,
		agent.Ask{Prompt: "what is an actor", TokenMs: 15, IdleMs: 150},
		func(tok string) { chunks = append(chunks, tok) })
	require.NoError(t, err)
	assert.Equal(t, answer, strings.Join(chunks, ""), "the chunks add up to the result")
	assert.Contains(t, answer, "(4 words)", "the tools actor counted the prompt")

	mu.Lock()
	partial := 0
	for _, s := range states {
		if s.Status == agent.Thinking && s.Draft != "" && s.Draft != answer {
			partial++
		}
	}
	mu.Unlock()
	assert.Greater(t, partial, 0, "subscribers saw the answer grow")

	time.Sleep(149 * time.Millisecond) // just short of IdleMs, on the fake clock
	synctest.Wait()
	st, _, err := client.StateOf[agent.State](h)
	require.NoError(t, err)
	assert.NotEqual(t, agent.Expired, st.Status, "still within the idle time")
	time.Sleep(time.Millisecond) // IdleMs reached
	synctest.Wait()
	st, _, err = client.StateOf[agent.State](h)
	require.NoError(t, err)
	assert.Equal(t, agent.Expired, st.Status)
	assert.Equal(t, []string{"wordCount: 4"}, st.Notes)
	assert.Len(t, st.Messages, 2)

	tools, err := c.Actor("tools", "s1").Call(ctx, "wordCount", agent.Text{Text: "a b"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"words":2}`, string(tools))
}

// A client that does not know rpc:stream (like the TS client) still gets
// the final result: it just skips the chunk frames.
func TestRawClientIgnoringChunksGetsResult(t *testing.T) {
	url := wstest.Serve(t, serve)
	r := wstest.DialWelcome(t, url)
	res := r.Call("agent", "s2", "ask", map[string]any{"prompt": "hi", "tokenMs": 0})
	assert.Contains(t, res["result"], "You asked about")
}
