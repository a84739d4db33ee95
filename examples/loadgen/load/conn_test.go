package load_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/examples/loadgen/load"
	"github.com/zocket-go/zocket/protocol"
)

// silentServer welcomes every connection and then answers nothing.
func silentServer(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		if ws.Write(r.Context(), websocket.MessageText, protocol.AppendWelcome(nil, "c1")) != nil {
			return
		}
		for {
			if _, _, err := ws.Read(r.Context()); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

func TestConn_CallsInFlightWhenTheConnectionDropsGetALostResult(t *testing.T) {
	c, err := load.Dial(t.Context(), silentServer(t), nil)
	require.NoError(t, err)
	assert.Equal(t, "c1", c.ClientID())
	results := make(chan protocol.Message, 1)
	require.NoError(t, c.Go(load.NewRPC("counter", "a", "increment", nil), func(m *protocol.Message, _, _ time.Time) {
		results <- *m
	}))
	c.Close()
	m := <-results
	assert.True(t, load.Lost(&m), "result %+v", m)

	<-c.Done()
	err = c.Go(load.NewRPC("counter", "a", "increment", nil), func(*protocol.Message, time.Time, time.Time) {
		t.Error("a call on a closed connection completed")
	})
	assert.ErrorIs(t, err, load.ErrClosed)
}

func TestConn_AnErrorResultFailsTheCall(t *testing.T) {
	target := serveBench(t)
	c, err := load.Dial(t.Context(), target.URL, nil)
	require.NoError(t, err)
	defer c.Close()
	rep, err := c.Call(t.Context(), load.NewRPC("big", "b", "touch", map[string]int{"i": 3}))
	assert.ErrorIs(t, err, load.ErrRemote)
	assert.False(t, load.Lost(&rep.Msg))
	assert.Contains(t, rep.Msg.Error, "out of range")
}
