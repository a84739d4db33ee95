package wshttp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/internal/wscork"
)

// coder/websocket answers a peer's close frame from its read loop and
// closes the socket right after writing the answer. When the answer comes
// while the writer goroutine has the socket corked (in the middle of a
// batch), it must still reach the peer: held back in the cork buffer it
// was dropped with the socket, and the peer's closing handshake failed
// with EOF. Found by the churn soak test under load.
func TestCloseAnswerWrittenWhileCorkedReachesThePeer(t *testing.T) {
	corked := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &wscork.Writer{ResponseWriter: w, WriteBufferSize: 256}
		ws, err := websocket.Accept(cw, r, nil)
		if err != nil {
			return
		}
		cw.Conn.Cork() // as the writer goroutine does for a batch
		close(corked)
		for {
			if _, _, err := ws.Read(context.Background()); err != nil {
				return // the peer's close frame: answered, socket closed
			}
		}
	}))
	defer srv.Close()

	client, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	require.NoError(t, err)
	defer client.CloseNow()
	<-corked
	require.NoError(t, client.Close(websocket.StatusNormalClosure, ""), "the closing handshake completes")
}
