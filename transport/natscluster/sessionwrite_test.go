package natscluster

import (
	"fmt"
	"io"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/internal/testsupport/writelog"
	"github.com/zocket-go/zocket/internal/wscork"
	"github.com/zocket-go/zocket/transport/wscore"
)

// writingSession is a session whose socket is sock, with room for n frames.
func writingSession(sock net.Conn, n int) *session {
	g := observedGateway(NopObserver{})
	g.opts.SendQueue = n
	g.sessions = map[string]*session{}
	s := newSession(g, nil, "s1", Authorization{})
	s.sock = &wscork.Conn{Conn: sock}
	g.sessions[s.id] = s
	return s
}

func TestSessionWrite_WritesEveryQueuedFrameInOneSystemCall(t *testing.T) {
	rc := &writelog.Conn{}
	s := writingSession(rc, 1000)
	var want []string
	for i := range 1000 {
		want = append(want, fmt.Sprintf(`{"type":"state:patch","n":%d}`, i))
		s.send([]byte(want[i]))
	}
	stuck := s.stuckTimer()
	defer stuck.Stop()

	require.NoError(t, s.write(s.waiting(nil), stuck))
	assert.Len(t, rc.Writes, 1, "one write for the whole queue, not one per frame")
	assert.Equal(t, want, rc.Texts(t), "every frame whole, in order")
	assert.Equal(t, wscore.QueueStats{Conns: 1}, s.g.Queues(), "the written frames are uncounted")
}

func TestSessionWrite_TakesACorksWorthOfFramesAtATime(t *testing.T) {
	s := writingSession(&writelog.Conn{}, 100)
	for range 100 {
		s.send(make([]byte, 1000))
	}

	batch := s.waiting(nil)
	assert.Len(t, batch, wscork.MaxCork/1000+1, "frames up to MaxCork bytes")
	assert.Len(t, s.out, 100-len(batch), "the rest wait for the next batch")
}

func TestSessionWrite_ClosesTheSocketOfAClientThatTakesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		server, client := net.Pipe() // client never reads
		defer client.Close()
		s := writingSession(server, 10)
		s.send([]byte(`{"type":"event"}`))
		stuck := s.stuckTimer()
		defer stuck.Stop()
		start := time.Now()

		err := s.write(s.waiting(nil), stuck)
		assert.ErrorIs(t, err, io.ErrClosedPipe, "the socket was closed under the stuck write")
		assert.Equal(t, writeTimeout, time.Since(start))
		assert.Equal(t, wscore.QueueStats{Conns: 1}, s.g.Queues())
	})
}

// discardConn is a socket that takes every write.
type discardConn struct{ net.Conn }

func (discardConn) Write(p []byte) (int, error) { return len(p), nil }

func TestSessionWrite_AllocatesNothingPerBatch(t *testing.T) {
	s := writingSession(discardConn{}, 100)
	stuck := s.stuckTimer()
	defer stuck.Stop()
	frame := []byte(`{"type":"state:patch","patches":[]}`)
	var batch [][]byte
	allocs := testing.AllocsPerRun(100, func() {
		for range 10 {
			s.send(frame)
		}
		batch = s.waiting(batch[:0])
		if err := s.write(batch, stuck); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
}
