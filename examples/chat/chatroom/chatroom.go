// Package chatroom is the getting-started chat room, defined once: the
// server registers Actor; Go clients use the same descriptors.
package chatroom

import "github.com/zocket-go/zocket"

// Message is one chat message.
type Message struct {
	From string `json:"from" validate:"required,max=64"`
	Text string `json:"text" validate:"required,max=2000"`
}

// State is a room's state.
type State struct {
	Messages []Message `json:"messages"`
}

// NewMessage is broadcast for every message sent.
var NewMessage = zocket.Event[Message]("newMessage")

// SendMessage appends a message to the room.
var SendMessage = zocket.MethodNoResult("sendMessage",
	func(c *zocket.Context[State, zocket.NoData], in Message) error {
		c.State.Messages = append(c.State.Messages, in)
		NewMessage.Broadcast(c, in)
		return nil
	})

// Actor is the chat room actor type; register it as "chat".
func Actor() *zocket.Actor[State, zocket.NoData] {
	return zocket.NewActor[State]().Methods(SendMessage).Events(NewMessage)
}
