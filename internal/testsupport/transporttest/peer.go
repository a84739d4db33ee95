package transporttest

import (
	"bufio"
	"context"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/internal/testsupport/wstest"
)

// pinged is a raw client that sees the server's control frames: it
// answers each ping itself, so a test can count them.
type pinged struct {
	t  *testing.T
	nc net.Conn
	r  *bufio.Reader
}

func dialPinged(t *testing.T, url string) *pinged {
	t.Helper()
	return dialPingedWith(t, ws.DefaultDialer, url)
}

// dialPingedWith is dialPinged with d.
func dialPingedWith(t *testing.T, d ws.Dialer, url string) *pinged {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wstest.Patience)
	defer cancel()
	nc, br, _, err := d.Dial(ctx, url)
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	p := &pinged{t: t, nc: nc, r: bufio.NewReader(nc)}
	if br != nil {
		p.r = br
	}
	return p
}

// next returns the next frame, answering a ping first.
func (p *pinged) next() ws.Frame {
	p.t.Helper()
	require.NoError(p.t, p.nc.SetReadDeadline(time.Now().Add(wstest.Patience)))
	f, err := ws.ReadFrame(p.r)
	require.NoError(p.t, err)
	if f.Header.OpCode == ws.OpPing {
		require.NoError(p.t, wsutil.WriteClientMessage(p.nc, ws.OpPong, f.Payload))
	}
	return f
}

// awaitPingAndAnswer reads frames up to a ping, and answers it.
func (p *pinged) awaitPingAndAnswer() {
	p.t.Helper()
	for p.next().Header.OpCode != ws.OpPing {
	}
}

// awaitText returns the next text frame, answering pings on the way.
func (p *pinged) awaitText() string {
	p.t.Helper()
	for {
		if f := p.next(); f.Header.OpCode == ws.OpText {
			return string(f.Payload)
		}
	}
}

// send sends a text frame.
func (p *pinged) send(text string) {
	p.t.Helper()
	require.NoError(p.t, wsutil.WriteClientText(p.nc, []byte(text)))
}

// sendTogether sends frames (text or control, masked as a client's are)
// in one write, so that they reach the server in one read.
func (p *pinged) sendTogether(frames ...ws.Frame) {
	p.t.Helper()
	var b []byte
	for _, f := range frames {
		bf, err := ws.CompileFrame(ws.MaskFrameWith(f, [4]byte{1, 2, 3, 4}))
		require.NoError(p.t, err)
		b = append(b, bf...)
	}
	_, err := p.nc.Write(b)
	require.NoError(p.t, err)
}
