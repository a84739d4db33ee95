package agent

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/zocket-go/zocket/ai"
	"github.com/zocket-go/zocket/ai/replay"
)

// Fake is a scripted model: it calls wordCount on the user's message,
// then streams a canned answer a word every pace.
func Fake(pace time.Duration) *replay.Provider {
	return &replay.Provider{Pace: pace, Respond: func(req ai.Request) replay.Turn {
		var prompt string
		for _, m := range req.Messages {
			if m.Role == ai.RoleUser {
				prompt = m.Text
			}
		}
		last := req.Messages[len(req.Messages)-1]
		if last.Role == ai.RoleUser {
			args, _ := json.Marshal(Text{Text: prompt})
			return replay.Calls(ai.ToolCall{ID: "call_" + strconv.Itoa(len(req.Messages)), Name: WordCount.Name(), Arguments: string(args)})
		}
		var counted Counted
		_ = json.Unmarshal([]byte(last.Text), &counted)
		return replay.Answer("You asked about \"" + prompt + "\" (" + strconv.Itoa(counted.Words) + " words). Here is a thoughtful answer.")
	}}
}
