package wscork

import (
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/internal/testsupport/writelog"
)

func frames(n, size int) ([][]byte, []string) {
	fs := make([][]byte, n)
	want := make([]string, n)
	for i := range fs {
		want[i] = fmt.Sprintf("%0*d", size, i)
		fs[i] = []byte(want[i])
	}
	return fs, want
}

func TestWriteBatch_WritesFramesThatFitTheCorkInOneWrite(t *testing.T) {
	rc := &writelog.Conn{}
	c := &Conn{Conn: rc}
	fs, want := frames(1000, 60) // 62 KiB with their headers

	require.NoError(t, c.WriteBatch(fs))
	assert.Len(t, rc.Writes, 1, "one system call for the batch")
	assert.Equal(t, want, rc.Texts(t), "every frame whole and in order")
	assert.Zero(t, c.Buffered())
}

func TestWriteBatch_KeepsOrderAcrossFlushesOfAFullCork(t *testing.T) {
	rc := &writelog.Conn{}
	c := &Conn{Conn: rc}
	fs, want := frames(100, 3000) // about 300 KiB
	fs = append(fs, make([]byte, 2*MaxCork))
	want = append(want, string(make([]byte, 2*MaxCork)))

	require.NoError(t, c.WriteBatch(fs))
	assert.Less(t, len(rc.Writes), 20, "a write per MaxCork bytes, not per frame")
	assert.Equal(t, want, rc.Texts(t))
}

func TestWrite_SendsWhatIsCorkedFirst(t *testing.T) {
	rc := &writelog.Conn{}
	c := &Conn{Conn: rc}
	c.Cork()
	require.NoError(t, c.WriteText([]byte("data")))
	closeFrame := []byte{0x88, 0}
	_, err := c.Write(closeFrame) // coder/websocket's close frame, while corked

	require.NoError(t, err)
	require.Len(t, rc.Writes, 2)
	assert.Equal(t, []byte{0x81, 4, 'd', 'a', 't', 'a'}, rc.Writes[0], "the corked frame first")
	assert.Equal(t, closeFrame, rc.Writes[1], "the close frame is not held back")
}

func TestWriteText_AllocatesNothingWhileCorked(t *testing.T) {
	c := &Conn{Conn: &writelog.Conn{}}
	payload := []byte(`{"type":"state:patch"}`)
	c.Cork()
	allocs := testing.AllocsPerRun(100, func() {
		c.WriteText(payload)
		c.buf = c.buf[:0] // stay within the cork
	})
	assert.Zero(t, allocs)
}

func TestTryUncork_KeepsCorkedWhatTheSocketDidNotTake(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	peer, err := net.Dial("tcp", ln.Addr().String()) // reads only at the end
	require.NoError(t, err)
	defer peer.Close()
	nc, err := ln.Accept()
	require.NoError(t, err)
	defer nc.Close()

	c := &Conn{Conn: nc}
	chunk := make([]byte, MaxCork-maxHeader)
	var sent int
	for { // until the socket has no room: what is left stays corked
		c.Cork()
		require.NoError(t, c.WriteText(chunk))
		done, err := c.TryUncork()
		require.NoError(t, err)
		if !done {
			break
		}
		sent++
	}
	require.NotZero(t, c.Buffered())

	read := make(chan int64)
	go func() { n, _ := io.Copy(io.Discard, peer); read <- n }()
	require.NoError(t, c.Uncork(), "a blocking uncork writes the rest")
	nc.Close()
	frame := int64(4 + len(chunk)) // a header with a 16-bit length
	assert.Equal(t, int64(sent+1)*frame, <-read, "every byte arrived once")
}
