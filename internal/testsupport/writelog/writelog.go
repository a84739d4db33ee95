// Package writelog is a socket for tests that records each Write and
// decodes what was written as a WebSocket server's frames.
package writelog

import (
	"bytes"
	"net"
	"testing"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/require"
)

// Conn is a net.Conn that keeps each Write; its other methods must not
// be called.
type Conn struct {
	net.Conn // nil
	// Writes holds a copy of each Write's bytes, one per call.
	Writes [][]byte
}

// Write records p.
func (c *Conn) Write(p []byte) (int, error) {
	c.Writes = append(c.Writes, bytes.Clone(p))
	return len(p), nil
}

// Texts decodes everything written as whole, unmasked text frames and
// returns their payloads in order; anything else fails t.
func (c *Conn) Texts(t testing.TB) []string {
	t.Helper()
	in := bytes.NewReader(bytes.Join(c.Writes, nil))
	var got []string
	for in.Len() > 0 {
		f, err := ws.ReadFrame(in)
		require.NoError(t, err)
		require.Equal(t, ws.Header{Fin: true, OpCode: ws.OpText, Length: int64(len(f.Payload))}, f.Header)
		got = append(got, string(f.Payload))
	}
	return got
}
