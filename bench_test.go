package zocket_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/storage/memstore"
)

// signalConn hands every frame's arrival to a channel.
type signalConn struct {
	id string
	ch chan struct{}
}

func (c *signalConn) ID() string                { return c.id }
func (c *signalConn) Identity() zocket.Identity { return zocket.Identity{} }
func (c *signalConn) Send([]byte) error         { c.ch <- struct{}{}; return nil }

type counterState struct {
	Count int `json:"count"`
}

var increment = zocket.MethodNoInput("increment", func(c *zocket.Context[counterState, zocket.NoData]) (int, error) {
	c.State.Count++
	return c.State.Count, nil
})

// BenchmarkHandlerRPC is one counter.increment through Handler.OnMessage,
// mailbox, commit and rpc:result, as a transport drives it.
func BenchmarkHandlerRPC(b *testing.B) {
	app := zocket.NewApp().Register("counter", zocket.NewActor[counterState]().Methods(increment))
	h := zocket.NewHandler(app)
	c := &signalConn{id: "c", ch: make(chan struct{}, 1)}
	h.Attach(c)
	frame := []byte(`{"type":"rpc","id":"rpc_1_mwx6ar59","actor":"counter","actorId":"a","method":"increment"}`)
	b.ReportAllocs()
	for b.Loop() {
		h.OnMessage(c, frame)
		<-c.ch
	}
}

// BenchmarkInvoke is one call from server code through App.Invoke.
func BenchmarkInvoke(b *testing.B) {
	app := zocket.NewApp().Register("counter", zocket.NewActor[counterState]().Methods(increment))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := increment.Invoke(ctx, app, "counter", "a", zocket.None{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBigState: touch (one field of one item) and append on a state of
// n items with one subscriber, as loadgen's bigstate does.
func BenchmarkBigState(b *testing.B) {
	for _, n := range []int{100, 10_000, 100_000} {
		for _, subscribed := range []bool{false, true} {
			b.Run(fmt.Sprintf("touch/n=%d/subscribed=%v", n, subscribed), func(b *testing.B) {
				app := bigApp()
				ctx := context.Background()
				if _, err := seedBig.Invoke(ctx, app, "big", "x", n); err != nil {
					b.Fatal(err)
				}
				if subscribed {
					h := zocket.NewHandler(app)
					c := discard{"s"}
					h.Attach(c)
					h.OnMessage(c, []byte(`{"type":"state:sub","actor":"big","actorId":"x"}`))
				}
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					i = (i + 7919) % n
					if _, err := touchBig.Invoke(ctx, app, "big", "x", i); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkFanout: one commit (an appended message and its event) to 1,000
// state-and-event subscribers; frames are encoded once and shared.
func BenchmarkFanout(b *testing.B) {
	type msg struct {
		Text string `json:"text"`
	}
	type st struct {
		Messages []msg `json:"messages"`
	}
	ev := zocket.Event[msg]("message")
	send := zocket.MethodNoResult("send", func(c *zocket.Context[st, zocket.NoData], in msg) error {
		c.State.Messages = append(c.State.Messages, in)
		ev.Broadcast(c, in)
		return nil
	})
	app := zocket.NewApp().Register("chat", zocket.NewActor[st]().Methods(send).Events(ev))
	h := zocket.NewHandler(app)
	for i := range 1000 {
		c := discard{fmt.Sprint("s", i)}
		h.Attach(c)
		h.OnMessage(c, []byte(`{"type":"event:sub","actor":"chat","actorId":"room"}`))
		h.OnMessage(c, []byte(`{"type":"state:sub","actor":"chat","actorId":"room"}`))
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := send.Invoke(ctx, app, "chat", "room", msg{Text: "hello"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHandlerDispatch is BenchmarkHandlerRPC for a transport that
// lends its goroutine (Handler.Dispatch): no goroutine hand-off at all.
func BenchmarkHandlerDispatch(b *testing.B) {
	app := zocket.NewApp().Register("counter", zocket.NewActor[counterState]().Methods(increment))
	h := zocket.NewHandler(app)
	c := &signalConn{id: "c", ch: make(chan struct{}, 1)}
	h.Attach(c)
	frame := []byte(`{"type":"rpc","id":"rpc_1_mwx6ar59","actor":"counter","actorId":"a","method":"increment"}`)
	h.OnMessage(c, frame) // activate
	<-c.ch
	b.ReportAllocs()
	for b.Loop() {
		if run := h.Dispatch(c, frame); run != nil {
			run()
		}
		<-c.ch
	}
}

// BenchmarkInvoke_Durable is BenchmarkInvoke on a Gated instance stored in
// memory (storage/memstore): the cost of the output gate, the record and
// the committer round trip, without a disk's sync.
func BenchmarkInvoke_Durable(b *testing.B) {
	app := zocket.NewApp(zocket.WithStorage(memstore.New())).
		Register("counter", zocket.NewActor[counterState]().Methods(increment))
	defer app.Close(context.Background())
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := increment.Invoke(ctx, app, "counter", "a", zocket.None{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBigState_Durable touches one item of a stored state of n items:
// what is recorded is the patch (TestDurable_BytesWrittenPerCallDoNotGrowWithTheState
// counts its bytes), so the cost follows n only through the copy and the
// diff that every call with a subscriber pays.
func BenchmarkBigState_Durable(b *testing.B) {
	for _, n := range []int{100, 10_000, 100_000} {
		b.Run(fmt.Sprintf("touch/n=%d", n), func(b *testing.B) {
			app := bigApp(zocket.WithStorage(memstore.New()))
			defer app.Close(context.Background())
			ctx := context.Background()
			if _, err := seedBig.Invoke(ctx, app, "big", "x", n); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := touchBig.Invoke(ctx, app, "big", "x", i%n); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
