package load

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/protocol"
)

// A BigState run ends with its context while it waits for the snapshot of
// a subscriber that never gets one.
func TestBigState_StopsWaitingForTheSnapshotWhenTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		if ws.Write(r.Context(), websocket.MessageText, protocol.AppendWelcome(nil, "c")) != nil {
			return
		}
		for {
			_, frame, err := ws.Read(r.Context())
			if err != nil {
				return
			}
			m, err := protocol.Parse(frame)
			switch {
			case err != nil:
			case m.Type == protocol.TypeRPC:
				_ = ws.Write(r.Context(), websocket.MessageText, protocol.AppendResult(nil, m.ID, []byte(`0`)))
			case m.Type == protocol.TypeStateSub:
				cancel() // and never send the snapshot
			}
		}
	}))
	defer srv.Close()

	s := BigState{Target: Target{URL: "ws" + strings.TrimPrefix(srv.URL, "http")}, Sizes: []int{1}, ID: "b"}
	err := s.Run(ctx, func(Result) { t.Error("a result without a snapshot") })
	require.ErrorIs(t, err, context.Canceled)
}
