package zocket_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/zockettest/conformance/fixtures"
)

// FuzzHandler feeds arbitrary frames to a Handler serving every fixture
// actor: nothing panics, and afterwards the connection and the actors still
// answer.
func FuzzHandler(f *testing.F) {
	for _, s := range []string{
		`{"type":"rpc","id":1,"actor":"chat","actorId":"r","method":"sendMessage","input":{"text":"x"}}`,
		`{"type":"rpc","id":"2","actor":"p","actorId":"x","method":"setKey","input":{"key":"a/b~","value":[1,{"z":null}]}}`,
		`{"type":"state:sub","actor":"p","actorId":"x"}`, `{"type":"event:sub","actor":"ev","actorId":"e"}`,
		`{"type":"rpc","id":3,"actor":"ev","actorId":"e","method":"defaults"}`, `{"type":"state:unsub","actor":"p","actorId":"x"}`,
		`{"type":"rpc","id":4,"actor":"fail","actorId":"f","method":"withDefault","input":{"n":"x"}}`, `[`, `{"type":"rpc","actor":5}`,
	} {
		f.Add([]byte(s))
	}
	var logs syncBuffer
	app, _ := fixtures.NewApp(zocket.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	h := zocket.NewHandler(app)
	f.Fuzz(func(t *testing.T, frame []byte) {
		// The Handler keeps the frames it is given (calls to other actors
		// may still read them after the probe is answered); the fuzzer
		// reuses its buffer after this function returns.
		frame = bytes.Clone(frame)
		// A Flusher connection, as socket transports have; a second one
		// closes before its lent call runs.
		c := &flushConn{LocalConn: zocket.NewLocalConn("fuzz", zocket.Identity{})}
		h.Attach(c)
		h.OnMessage(c, frame)
		if run := h.Dispatch(c, frame); run != nil {
			run()
		}
		gone := &flushConn{LocalConn: zocket.NewLocalConn("gone", zocket.Identity{})}
		h.Attach(gone)
		if run := h.Dispatch(gone, frame); run != nil {
			gone.Close()
			run()
		}
		h.OnClose(gone)
		h.OnMessage(c, []byte(`{"type":"rpc","id":"probe","actor":"echo","actorId":"x","method":"whoAmI"}`))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for {
			b, err := c.Next(ctx)
			if err != nil {
				t.Fatalf("no answer to the probe after %q", frame)
			}
			if string(b) == `{"type":"rpc:result","id":"probe","result":"fuzz"}` {
				break
			}
		}
		h.OnClose(c)
		if strings.Contains(logs.String(), "internal error") {
			t.Fatalf("internal error after %q:\n%s", frame, logs.String())
		}
	})
}
