package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/zocket-go/zocket/client"
)

// fakeSocket is a controllable Socket (the TS client tests' fake socket):
// the test opens it, feeds it frames, drops it, and reads what was sent.
type fakeSocket struct {
	opened chan error // the dial waits for open (nil) or fail (error)
	in     chan []byte
	gone   chan struct{}
	once   sync.Once

	mu     sync.Mutex
	sent   []string
	reason string
}

func (s *fakeSocket) Read() ([]byte, error) {
	select {
	case f := <-s.in:
		return f, nil
	case <-s.gone:
		s.mu.Lock()
		defer s.mu.Unlock()
		return nil, &client.CloseError{Code: 1000, Reason: s.reason}
	}
}

func (s *fakeSocket) Write(_ context.Context, frame []byte) error {
	select {
	case <-s.gone:
		return errors.New("closed")
	default:
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, string(frame))
	return nil
}

func (s *fakeSocket) Close() error {
	s.once.Do(func() { close(s.gone) })
	return nil
}

// open lets the dial complete; fail makes it fail.
func (s *fakeSocket) open()            { s.opened <- nil }
func (s *fakeSocket) fail(msg string)  { s.opened <- errors.New(msg) }
func (s *fakeSocket) receive(f string) { s.in <- []byte(f) }

// drop closes the socket from the server side with reason.
func (s *fakeSocket) drop(reason string) {
	s.mu.Lock()
	s.reason = reason
	s.mu.Unlock()
	s.Close()
}

func (s *fakeSocket) frames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.sent...)
}

// fakeNet hands out fake sockets, one per dial.
type fakeNet struct {
	sockets chan *fakeSocket
}

func newFakeNet() *fakeNet { return &fakeNet{sockets: make(chan *fakeSocket, 16)} }

func (n *fakeNet) dial(ctx context.Context, _ string) (client.Socket, error) {
	s := &fakeSocket{opened: make(chan error), in: make(chan []byte, 64), gone: make(chan struct{})}
	n.sockets <- s
	select {
	case err := <-s.opened:
		if err != nil {
			return nil, err
		}
		return s, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// next returns the next socket the client created.
func (n *fakeNet) next(t *testing.T) *fakeSocket {
	t.Helper()
	select {
	case s := <-n.sockets:
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("no socket created")
		return nil
	}
}

func zero(int) time.Duration { return 0 }

func frameMap(t *testing.T, f string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(f), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// openClient returns a client on a fake network whose first socket is open.
func openClient(t *testing.T, opts client.Options) (*client.Client, *fakeSocket, *fakeNet) {
	t.Helper()
	n := newFakeNet()
	opts.Dial = n.dial
	c := client.New("ws://fake", opts)
	t.Cleanup(func() { c.Close() })
	s := n.next(t)
	s.open()
	if err := c.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c, s, n
}
