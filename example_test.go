package zocket_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/zocket-go/zocket"
)

// The chat room of the package documentation, driven in-process: a
// LocalConn sees exactly the frames a WebSocket client would.
func Example() {
	type Message struct {
		From string `json:"from"`
		Text string `json:"text" validate:"required,max=2000"`
	}
	type Room struct {
		Messages []Message `json:"messages"`
	}
	newMessage := zocket.Event[Message]("newMessage")
	send := zocket.Method("sendMessage",
		func(c *zocket.Context[Room, zocket.NoData], in Message) (int, error) {
			c.State.Messages = append(c.State.Messages, in)
			newMessage.Broadcast(c, in)
			return len(c.State.Messages), nil
		})
	app := zocket.NewApp().Register("chat", zocket.NewActor[Room]().Methods(send).Events(newMessage))

	h := zocket.NewHandler(app)
	alice := zocket.NewLocalConn("alice", zocket.Identity{})
	h.OnConnection(alice)
	h.OnMessage(alice, []byte(`{"type":"state:sub","actor":"chat","actorId":"general"}`))
	h.OnMessage(alice, []byte(`{"type":"rpc","id":"1","actor":"chat","actorId":"general","method":"sendMessage","input":{"from":"Alice","text":"Hi!"}}`))

	ctx := context.Background()
	for range 4 {
		frame, _ := alice.Next(ctx)
		fmt.Println(string(frame))
	}
	// Output:
	// {"type":"welcome","clientId":"alice"}
	// {"type":"state:snapshot","actor":"chat","actorId":"general","state":{"messages":[]}}
	// {"type":"state:patch","actor":"chat","actorId":"general","patches":[{"op":"add","path":"/messages/0","value":{"from":"Alice","text":"Hi!"}}]}
	// {"type":"rpc:result","id":"1","result":1}
}

// Server code calls actors through the same mailbox as clients, typed by
// the method descriptor.
func ExampleMethodDef_Invoke() {
	type Counter struct {
		Count int `json:"count"`
	}
	type Amount struct {
		N int `json:"n" validate:"gt=0"`
	}
	add := zocket.Method("add", func(c *zocket.Context[Counter, zocket.NoData], in Amount) (int, error) {
		c.State.Count += in.N
		return c.State.Count, nil
	})
	app := zocket.NewApp().Register("counter", zocket.NewActor[Counter]().Methods(add))
	ctx := context.Background()

	n, err := add.Invoke(ctx, app, "counter", "a", Amount{N: 5})
	fmt.Println(n, err)
	_, err = add.Invoke(ctx, app, "counter", "a", Amount{N: -1})
	fmt.Println(errors.Is(err, zocket.ErrValidation))
	fmt.Println(err)
	// Output:
	// 5 <nil>
	// true
	// Validation failed for add: [{"message":"Too small: expected more than 0","path":["n"]}]
}

// Middleware turns the transport's identity into a typed context; a step
// that returns an error rejects the call before the handler runs.
func ExampleUse() {
	type User struct{ ID, Role string }
	type Doc struct {
		Text string `json:"text"`
	}
	authed := zocket.Use(func(_ context.Context, r zocket.Request[zocket.NoData]) (User, error) {
		if r.Identity.UserID == "" {
			return User{}, errors.New("Unauthorized")
		}
		role, _ := r.Identity.Claims["role"].(string)
		return User{ID: r.Identity.UserID, Role: role}, nil
	})
	admins := authed.Check(func(_ context.Context, r zocket.Request[User]) error {
		if r.Data.Role != "admin" {
			return errors.New("Forbidden")
		}
		return nil
	})
	erase := zocket.MethodNoIO("erase", func(c *zocket.Context[Doc, User]) error {
		c.State.Text = ""
		return nil
	})
	app := zocket.NewApp().Register("doc", zocket.NewActorWith[Doc](admins).Methods(erase))

	ctx := context.Background()
	_, err := app.Invoke(ctx, "doc", "d", "erase", nil)
	fmt.Println(err)
	member := zocket.WithIdentity(ctx, zocket.Identity{UserID: "bob", Claims: map[string]any{"role": "member"}})
	_, err = app.Invoke(member, "doc", "d", "erase", nil)
	fmt.Println(err)
	admin := zocket.WithIdentity(ctx, zocket.Identity{UserID: "ann", Claims: map[string]any{"role": "admin"}})
	_, err = app.Invoke(admin, "doc", "d", "erase", nil)
	fmt.Println(err)
	// Output:
	// Unauthorized
	// Forbidden
	// <nil>
}

// Emit is the untyped form for dynamic event names; only declared events
// go out, after the call commits, in the order their terminals ran.
func ExampleEmit() {
	type Empty struct{}
	type Note struct {
		Text string `json:"text"`
	}
	note := zocket.Event[Note]("note")
	both := zocket.MethodNoIO("both", func(c *zocket.Context[Empty, zocket.NoData]) error {
		first := zocket.Emit(c, "note", Note{Text: "first"})
		zocket.Emit(c, "note", map[string]any{"text": "second"}).Broadcast()
		first.Broadcast()
		zocket.Emit(c, "undeclared", nil).Broadcast() // dropped and logged
		return nil
	})
	app := zocket.NewApp().Register("n", zocket.NewActor[Empty]().Methods(both).Events(note))
	h := zocket.NewHandler(app)
	c := zocket.NewLocalConn("c", zocket.Identity{})
	h.Attach(c)
	h.OnMessage(c, []byte(`{"type":"event:sub","actor":"n","actorId":"x"}`))
	h.OnMessage(c, []byte(`{"type":"rpc","id":1,"actor":"n","actorId":"x","method":"both"}`))
	for range 3 {
		f, _ := c.Next(context.Background())
		fmt.Println(string(f))
	}
	// Output:
	// {"type":"event","actor":"n","actorId":"x","event":"note","payload":{"text":"second"}}
	// {"type":"event","actor":"n","actorId":"x","event":"note","payload":{"text":"first"}}
	// {"type":"rpc:result","id":1}
}
