package wsepoll

import (
	"context"
	"errors"
	"github.com/zocket-go/zocket/internal/testsupport/poll"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

// brokenSocket accepts writes until broken, then fails them.
type brokenSocket struct{ broken atomic.Bool }

func (s *brokenSocket) read([]byte) (int, error) { return 0, errWouldBlock }
func (s *brokenSocket) write(b []byte) (int, error) {
	if s.broken.Load() {
		return 0, errors.New("connection reset by peer")
	}
	return len(b), nil
}
func (s *brokenSocket) close() {}

// A write that fails inside Send, where the App holds the instance's lock
// (here: the snapshot of a state subscription), must not call back into
// the Handler on that goroutine: OnClose takes the same lock.
func TestFailedWriteInsideSendDoesNotDeadlock(t *testing.T) {
	type st struct{ N int }
	app := zocket.NewApp().Register("a", zocket.NewActor[st]().
		Methods(zocket.MethodNoInput("get", func(c *zocket.Context[st, zocket.NoData]) (int, error) { return c.State.N, nil })))
	s, err := New(zocket.NewHandler(app), Options{GoroutinePerConn: true})
	require.NoError(t, err)
	defer func() { // bounded: with the bug, shutdown waits for the wedged drop
		done := make(chan struct{})
		go func() { s.Shutdown(context.Background()); close(done) }()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			t.Error("shutdown hung")
		}
	}()
	_, ok := s.poller()
	require.True(t, ok)
	sock := &brokenSocket{}
	c := newConn(s, sock, "c1", zocket.Identity{})
	require.True(t, s.track(c))
	s.h.OnConnection(c)

	sock.broken.Store(true)
	s.h.OnMessage(c, []byte(`{"type":"state:sub","actor":"a","actorId":"x"}`))

	poll.Until(t, func() bool { return s.Len() == 0 }, "the connection was dropped")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err = app.Invoke(ctx, "a", "x", "get", nil)
	require.NoError(t, err, "the instance is not wedged")
}
