package zocket_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/zocket-go/zocket"
)

type chatMember struct {
	Name  string
	Admin bool
}

type chatRoom struct {
	Topic    string   `json:"topic"`
	Messages []string `json:"messages"`
}

// chatCtx names the handler context once; Go infers the method
// constructors' type parameters from the handler's signature.
type chatCtx = zocket.Context[chatRoom, chatMember]

var asMember = zocket.Use(func(_ context.Context, r zocket.Request[zocket.NoData]) (chatMember, error) {
	if r.Identity.UserID == "" {
		return chatMember{}, errors.New("Unauthorized")
	}
	return chatMember{Name: r.Identity.UserID, Admin: r.Identity.UserID == "ada"}, nil
})

var say = zocket.MethodNoResult("say", func(c *chatCtx, text string) error {
	c.State.Messages = append(c.State.Messages, c.Data.Name+": "+text)
	return nil
})

var history = zocket.MethodNoInput("history", func(c *chatCtx) ([]string, error) {
	return c.State.Messages, nil
})

// setTopic is for admins only: the guard sees the middleware's typed
// context, so no switch on the method name is needed in the chain.
var setTopic = zocket.MethodNoResult("setTopic", func(c *chatCtx, topic string) error {
	c.State.Topic = topic
	return nil
}).Guard(func(_ context.Context, r zocket.Request[chatMember]) error {
	if !r.Data.Admin {
		return errors.New("Forbidden: admins only")
	}
	return nil
})

var clearChat = zocket.MethodNoIO("clear", func(c *chatCtx) error {
	c.State.Messages = nil
	return nil
})

func newChatApp() *zocket.App {
	return zocket.NewApp().Register("chat",
		zocket.NewActorWith[chatRoom](asMember).Methods(say, history, setTopic, clearChat))
}

// A guard runs after the actor's middleware, for one method only.
func ExampleMethodDef_Guard() {
	app := newChatApp()
	room := app.Ref("chat", "general")
	asBob := zocket.WithIdentity(context.Background(), zocket.Identity{UserID: "bob"})
	asAda := zocket.WithIdentity(context.Background(), zocket.Identity{UserID: "ada"})

	_, err := setTopic.Call(asBob, room, "cats")
	fmt.Println(err)
	_, err = setTopic.Call(asAda, room, "dogs")
	fmt.Println(err)
	// Output:
	// Forbidden: admins only
	// <nil>
}

// A Ref names an instance once; Call takes the input, CallNoInput calls a
// method declared without one.
func ExampleApp_Ref() {
	app := newChatApp()
	room := app.Ref("chat", "general")
	ctx := zocket.WithIdentity(context.Background(), zocket.Identity{UserID: "bob"})

	if _, err := say.Call(ctx, room, "hello"); err != nil {
		fmt.Println(err)
	}
	msgs, err := zocket.CallNoInput(ctx, room, history)
	fmt.Println(msgs, err)
	if _, err := zocket.CallNoInput(ctx, room, clearChat); err != nil {
		fmt.Println(err)
	}
	msgs, err = zocket.CallNoInput(ctx, room, history)
	fmt.Println(msgs, err)
	// Output:
	// [bob: hello] <nil>
	// [] <nil>
}
