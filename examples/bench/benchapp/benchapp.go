// Package benchapp holds the actors the load generator expects (counter,
// chat, big), served by examples/bench and examples/cluster.
package benchapp

import (
	"fmt"
	"strconv"

	"github.com/zocket-go/zocket"
)

// The actors the load generator expects, with exactly its names and fields
// (docs/benchmarks.md).

type counterState struct {
	Count int `json:"count"`
}

type amount struct {
	Amount int `json:"amount"`
}

type chatMessage struct {
	From string `json:"from"`
	Text string `json:"text"`
}

type chatState struct {
	Messages []chatMessage `json:"messages"`
}

type sent struct {
	N int `json:"n"`
}

type item struct {
	ID int    `json:"id"`
	V  string `json:"v"`
}

type bigState struct {
	Items   []item `json:"items"`
	touches int    // not part of the wire state
}

type count struct {
	N int `json:"n" validate:"gte=0"`
}

type index struct {
	I int `json:"i" validate:"gte=0"`
}

// NewApp returns an App with the counter, chat and big actors.
func NewApp(opts ...zocket.Option) *zocket.App {
	message := zocket.Event[chatMessage]("message")
	type (
		cc = zocket.Context[counterState, zocket.NoData]
		ch = zocket.Context[chatState, zocket.NoData]
		bc = zocket.Context[bigState, zocket.NoData]
	)
	return zocket.NewApp(opts...).
		Register("counter", zocket.NewActor[counterState]().Methods(
			zocket.MethodNoInput("increment", func(c *cc) (int, error) {
				c.State.Count++
				return c.State.Count, nil
			}),
			zocket.Method("add", func(c *cc, in amount) (int, error) {
				c.State.Count += in.Amount
				return c.State.Count, nil
			}),
		)).
		Register("chat", zocket.NewActor[chatState]().Events(message).Methods(
			zocket.Method("send", func(c *ch, in chatMessage) (sent, error) {
				c.State.Messages = append(c.State.Messages, in)
				message.Broadcast(c, in)
				return sent{N: len(c.State.Messages)}, nil
			}),
		)).
		// big is ephemeral even with a Storage: it measures patches, not
		// storage (natsstore would keep its seeded state, which outgrows a
		// NATS message, in its Object Store bucket).
		Register("big", zocket.NewActor[bigState]().Durability(zocket.Ephemeral).Methods(
			zocket.Method("seed", func(c *bc, in count) (int, error) {
				c.State.Items = make([]item, in.N)
				for i := range c.State.Items {
					c.State.Items[i] = item{ID: i, V: "x" + strconv.Itoa(i)}
				}
				return in.N, nil
			}),
			zocket.MethodNoResult("touch", func(c *bc, in index) error {
				if in.I >= len(c.State.Items) {
					return fmt.Errorf("index %d out of range (%d items)", in.I, len(c.State.Items))
				}
				c.State.touches++
				c.State.Items[in.I].V = "t" + strconv.Itoa(c.State.touches)
				return nil
			}),
			zocket.MethodNoInput("append", func(c *bc) (int, error) {
				n := len(c.State.Items)
				c.State.Items = append(c.State.Items, item{ID: n, V: "x" + strconv.Itoa(n)})
				return len(c.State.Items), nil
			}),
		))
}
