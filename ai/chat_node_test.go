package ai_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/ai"
	"github.com/zocket-go/zocket/ai/replay"
)

// aiPackages are the versions of the AI SDK (npm package "ai") whose
// transport and reader check ChatHandler: the last of version 5 (the UI
// message stream's first version, still the most used) and the latest.
var aiPackages = []string{"ai@5.0.277", "ai@7.0.173"}

// eachSDK runs test once per AI SDK version, with a directory holding the
// installed SDK and the check script. The installs go to the user's cache
// directory, once. Without node and npm the test is skipped, unless
// CI=true: then it fails, because CI must run it.
func eachSDK(t *testing.T, test func(t *testing.T, dir string)) {
	for _, pkg := range aiPackages {
		t.Run(pkg, func(t *testing.T) { test(t, aiSDK(t, pkg)) })
	}
}

func aiSDK(t *testing.T, aiPackage string) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			msg := tool + " not found (install Node.js 20 or later with npm)"
			if os.Getenv("CI") == "true" {
				t.Fatal(msg + ": CI must run the AI SDK test")
			}
			t.Skip(msg + ": AI SDK test skipped")
		}
	}
	cache, err := os.UserCacheDir()
	require.NoError(t, err)
	dir := filepath.Join(cache, "zocket-go-test", aiPackage)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "ai", "package.json")); err != nil {
		require.NoError(t, os.MkdirAll(filepath.Dir(dir), 0o755))
		tmp, err := os.MkdirTemp(filepath.Dir(dir), "install-")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(tmp, "package.json"), []byte(`{"private":true,"type":"module"}`), 0o644))
		cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--loglevel=error", aiPackage)
		cmd.Dir = tmp
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "npm install %s:\n%s", aiPackage, out)
		if err := os.Rename(tmp, dir); err != nil { // another test process was first
			_ = os.RemoveAll(tmp)
		}
	}
	script, err := os.ReadFile(filepath.Join("testdata", "usechat", "check.mjs"))
	require.NoError(t, err)
	run := t.TempDir()
	require.NoError(t, os.Symlink(filepath.Join(dir, "node_modules"), filepath.Join(run, "node_modules")))
	require.NoError(t, os.WriteFile(filepath.Join(run, "check.mjs"), script, 0o644))
	return run
}

// useChat sends text to chat id at url as useChat() does and returns what
// the AI SDK assembled.
func useChat(t *testing.T, dir, url, id, text string) map[string]any {
	t.Helper()
	cmd := exec.Command("node", "check.mjs", url, id, text)
	cmd.Dir = dir
	out, err := cmd.Output()
	require.NoError(t, err, "node: %s", out)
	var got map[string]any
	require.NoError(t, json.Unmarshal(out, &got), "node printed %s", out)
	return got
}

func TestChatHandler_TheAISDKAssemblesTheAnswerWithItsToolCalls(t *testing.T) {
	eachSDK(t, theAISDKAssemblesTheAnswerWithItsToolCalls)
}

func theAISDKAssemblesTheAnswerWithItsToolCalls(t *testing.T, dir string) {
	p := replay.Script(
		replay.Calls(ai.ToolCall{ID: "call_1", Name: "weather", Arguments: `{"city":"Oslo"}`}),
		replay.Answer("Sunny in Oslo."))
	tc := newTestChat(t, p, withTools)
	srv := chatServer(t, tc)

	got := useChat(t, dir, srv.URL+"/api/chat", "c1", "weather in Oslo?")
	b, _ := json.Marshal(got)
	assert.JSONEq(t, `{
		"id": "m2",
		"role": "assistant",
		"parts": [
			{"type": "step-start"},
			{"type": "tool-weather", "toolCallId": "call_1", "state": "output-available",
			 "input": {"city": "Oslo"}, "output": {"forecast": "sunny in Oslo for c1"}},
			{"type": "step-start"},
			{"type": "text", "text": "Sunny in Oslo.", "state": "done"}
		]
	}`, string(b))
}

func TestChatHandler_TheAISDKSeesAFailedRunAsAnError(t *testing.T) {
	eachSDK(t, theAISDKSeesAFailedRunAsAnError)
}

func theAISDKSeesAFailedRunAsAnError(t *testing.T, dir string) {
	broken := replay.Answer("half an answer")
	broken.Events, broken.Err = broken.Events[:2], replay.ErrExhausted
	tc := newTestChat(t, replay.Script(broken), nil)
	srv := chatServer(t, tc)

	got := useChat(t, dir, srv.URL+"/api/chat", "c1", "hi")
	assert.Equal(t, "ai: model: replay: script exhausted", got["error"])
}

func TestChatHandler_TheAISDKReportsA400WithItsReason(t *testing.T) {
	eachSDK(t, theAISDKReportsA400WithItsReason)
}

func theAISDKReportsA400WithItsReason(t *testing.T, dir string) {
	tc := newTestChat(t, replay.Script(), nil)
	srv := chatServer(t, tc)

	got := useChat(t, dir, srv.URL+"/api/chat", "c1", "   ")
	assert.Contains(t, got["error"], "the last message must be a user message with text")
}
