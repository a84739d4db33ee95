package wsepoll

import (
	"log/slog"
	"net"
)

// poller tells a Server which connections have input.
type poller interface {
	// adopt takes over an upgraded connection's socket.
	adopt(nc net.Conn) (socket, error)
	// add starts watching c; readReady runs on a new goroutine when c
	// has input.
	add(c *conn) error
	// wait is called by a reader that gave up the reading role after
	// draining the socket, and reports whether to read again on the
	// calling goroutine: an event-driven poller returns at once (true if
	// input was reported meanwhile); a blocking one waits for input and
	// returns true (false once c is closed).
	wait(c *conn) bool
	// waitWritable makes c.writeReady run once c's socket has room for
	// output (or failed).
	waitWritable(c *conn)
	// resumed tells that c's reading moved to a new goroutine because a
	// call lent by Dispatch overran.
	resumed(c *conn)
	// remove stops watching c, before its socket is closed.
	remove(c *conn)
	// close stops the poller's goroutines.
	close()
}

// goroutinePoller watches each connection with a goroutine of its own,
// parked in the runtime's network poller until input arrives: the
// fallback where epoll is not available. It costs a goroutine stack per
// connection, and no buffer.
type goroutinePoller struct{}

func (goroutinePoller) adopt(nc net.Conn) (socket, error) { return newNetSocket(nc) }

func (goroutinePoller) add(c *conn) error {
	go func() {
		if c.sock.(*netSocket).waitReadable() {
			c.readReady()
		}
	}()
	return nil
}

func (goroutinePoller) wait(c *conn) bool { return c.sock.(*netSocket).waitReadable() }

func (goroutinePoller) waitWritable(c *conn) {
	go func() {
		c.sock.(*netSocket).waitWritable()
		c.writeReady() // the write fails if the socket is gone
	}()
}

func (goroutinePoller) remove(*conn) {}
func (goroutinePoller) close()       {}

// newPoller returns epoll where available, unless perConn asks for a
// goroutine per connection.
// lookup finds a connection by its slot in the Server's table.
func newPoller(perConn bool, log *slog.Logger, lookup func(slot int32) *conn) (poller, error) {
	if perConn {
		return goroutinePoller{}, nil
	}
	return newEpoll(log, lookup)
}

func (goroutinePoller) resumed(*conn) {}
