package ai_test

import (
	"context"
	"encoding/json"
	"io"
	"strconv"
	"testing"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/ai"
	"github.com/zocket-go/zocket/client"
	"github.com/zocket-go/zocket/zockettest"
)

// deltas is a model that answers n one-word deltas as fast as they are
// read.
type deltas int

func (n deltas) Stream(context.Context, ai.Request) (ai.Stream, error) {
	return &deltaStream{left: int(n)}, nil
}

type deltaStream struct{ left int }

func (s *deltaStream) Next() (ai.Event, error) {
	if s.left == 0 {
		return ai.Event{}, io.EOF
	}
	s.left--
	return ai.Event{Type: ai.TextDelta, Text: " word"}, nil
}

func (s *deltaStream) Close() error { return nil }

// BenchmarkAgent_Delta measures the helper per token delta: one run of
// b.N deltas, each appended to the state, sent to the caller as a chunk
// and offered to Flush (which publishes at most once per 50 ms).
func BenchmarkAgent_Delta(b *testing.B) {
	for _, subscribers := range []int{0, 100} {
		b.Run("subscribers="+strconv.Itoa(subscribers), func(b *testing.B) {
			obs := &published{}
			a := &ai.Agent[chatState, zocket.NoData]{Provider: deltas(b.N), Conversation: conversation}
			send := a.Method("send")
			app := zocket.NewApp(zocket.WithObserver(obs)).Register("chat", zocket.NewActor[chatState]().Methods(send))
			defer app.Close(context.Background())
			srv := zockettest.NewServer(app, zockettest.Options{})
			for range subscribers {
				h := srv.Client(b, client.Options{}).Actor("chat", "c1")
				defer h.Release()
				off := client.OnState(h, func(chatState) {})
				defer off()
			}
			ctx := zocket.WithChunks(context.Background(), func(json.RawMessage) {})
			b.ReportAllocs()
			b.ResetTimer()
			if _, err := send.Invoke(ctx, app, "chat", "c1", ai.Prompt{Text: "go"}); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			total := 0
			for _, n := range obs.take() {
				total += n
			}
			b.ReportMetric(float64(total)/float64(b.N), "patch-bytes/delta")
		})
	}
}
