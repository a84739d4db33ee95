package wsepoll_test

import (
	"bufio"
	"fmt"
	"github.com/zocket-go/zocket/internal/testsupport/poll"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/internal/testsupport/transporttest"
	"github.com/zocket-go/zocket/transport/wsepoll"
)

// An idle, subscribed connection costs no goroutine and no buffer: the
// server's goroutine count does not grow with idle connections, and none
// of them holds a read buffer or a writer.
func TestIdleConnectionsHoldNoGoroutineAndNoBuffer(t *testing.T) {
	s, url := startRaw(t, transporttest.App(), wsepoll.Options{})
	warm := dialPeer(t, url) // starts the poller and sweeper
	warm.write(text(rpcWho))
	warm.next(ws.OpText)
	time.Sleep(50 * time.Millisecond)
	before := runtime.NumGoroutine()

	const n = 300
	for i := range n {
		p := dialPeer(t, url) // no goroutine on the client side either
		p.write(text(fmt.Sprintf(`{"type":"state:sub","actor":"blob","actorId":"idle%d"}`, i%10)))
		p.next(ws.OpText) // the snapshot
	}
	// Workers that served the burst exit after a second of idleness.
	poll.Until(t, func() bool { return runtime.NumGoroutine() <= before+2 }, "the idle workers exited")
	assert.Equal(t, wsepoll.Stats{Conns: n + 1}, s.Stats())
}

// Bytes a client sends right behind its upgrade request (before the 101)
// are not lost when net/http read them along with the request.
func TestBytesBehindTheRequestAreRead(t *testing.T) {
	_, url := startHTTP(t, transporttest.App(), wsepoll.Options{})
	nc, err := net.Dial("tcp", strings.TrimPrefix(url, "ws://"))
	require.NoError(t, err)
	defer nc.Close()
	req := "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	_, err = nc.Write(append([]byte(req), text(rpcWho)...))
	require.NoError(t, err)
	r := bufio.NewReader(nc)
	resp, err := http.ReadResponse(r, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	welcome, err := ws.ReadFrame(r)
	require.NoError(t, err)
	assert.Contains(t, string(welcome.Payload), `"welcome"`)
	result, err := ws.ReadFrame(r)
	require.NoError(t, err)
	assert.Contains(t, string(result.Payload), `"id":"w"`)
}
