package ai_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/ai"
	"github.com/zocket-go/zocket/ai/replay"
)

// Like App.Register, Method panics on a programming error, with a message
// that names it, instead of every run failing later.
func TestAgent_MethodPanicsWithoutProviderOrConversation(t *testing.T) {
	assert.PanicsWithValue(t, `ai: Agent.Method("send"): Provider is nil`, func() {
		(&ai.Agent[chatState, zocket.NoData]{Conversation: conversation}).Method("send")
	})
	assert.PanicsWithValue(t, `ai: Agent.Method("send"): Conversation is nil`, func() {
		(&ai.Agent[chatState, zocket.NoData]{Provider: replay.Script()}).Method("send")
	})
}
