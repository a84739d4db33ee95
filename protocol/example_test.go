package protocol_test

import (
	"errors"
	"fmt"

	"github.com/zocket-go/zocket/protocol"
)

func ExampleParse() {
	m, err := protocol.Parse([]byte(`{"type":"rpc","id":7,"actor":"chat","actorId":"r1","method":"send","input":{"text":"hi"}}`))
	fmt.Println(m.Type, string(m.ID), m.Actor, m.ActorID, m.Method, string(m.Input), err)

	_, err = protocol.Parse([]byte(`[1,2]`))
	fmt.Println(errors.Is(err, protocol.ErrIgnore), err)
	// Output:
	// rpc 7 chat r1 send {"text":"hi"} <nil>
	// true protocol: frame ignored: not a JSON object
}

func ExampleAppendRPC() {
	frame := protocol.AppendRPC(nil, []byte(`"rpc_1"`), "chat", "room-1", "getMessages", nil)
	fmt.Println(string(frame))
	// Output:
	// {"type":"rpc","id":"rpc_1","actor":"chat","actorId":"room-1","method":"getMessages"}
}
