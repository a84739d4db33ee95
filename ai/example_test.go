package ai_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/ai"
	"github.com/zocket-go/zocket/ai/replay"
)

// A conversation actor whose "send" method runs a model with a tool. In
// production the Provider is openai.New or anthropic.New.
func Example() {
	type lookup struct {
		Word string `json:"word" validate:"required"`
	}
	type session struct {
		Conv ai.Conversation `json:"conv"`
	}
	agent := &ai.Agent[session, zocket.NoData]{
		Provider: replay.Script(
			replay.Calls(ai.ToolCall{ID: "c1", Name: "upper", Arguments: `{"word":"actor"}`}),
			replay.Answer("It is spelled ACTOR.")),
		Conversation: func(s *session) *ai.Conversation { return &s.Conv },
		System:       "You answer in one sentence.",
		Tools: []ai.Tool{ai.Func("upper", "spells a word in capitals",
			func(_ context.Context, _ ai.ToolEnv, in lookup) (string, error) { return strings.ToUpper(in.Word), nil })},
	}
	send := agent.Method("send")
	app := zocket.NewApp().
		Register("chat", zocket.NewActor[session]().Methods(send)).
		Register("chatStop", agent.StopActor())
	defer app.Close(context.Background())

	res, err := send.Invoke(context.Background(), app, "chat", "demo", ai.Prompt{Text: "Spell actor loudly."})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Message.Text, res.FinishReason)
	// Output: It is spelled ACTOR. stop
}
