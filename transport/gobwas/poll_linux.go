package gobwas

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// epoller watches sockets taken out of the Go runtime (fdSocket) with one
// epoll instance, edge-triggered for input and for room to write, each
// socket registered once: no system call re-arms it. An edge sets the
// connection's input flag (or reports room to its writer); a worker starts
// reading only when nobody is, and a reader looks at the flag before it
// stops, so no edge is lost and a connection never has two readers.
//
// The epoll instance is itself registered with the Go runtime's network
// poller (an epoll descriptor is readable while it has events), and one
// goroutine collects events without blocking a thread: it parks like any
// goroutine waiting for a socket.
type epoller struct {
	ep     *os.File // the epoll instance, non-blocking, in the runtime poller
	log    *slog.Logger
	lookup func(slot int32) *conn
	work   *workers
	done   chan struct{}
}

const (
	inEvents  = unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLHUP | unix.EPOLLERR
	outEvents = unix.EPOLLOUT | unix.EPOLLHUP | unix.EPOLLERR
	watched   = unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET
)

func newEpoll(log *slog.Logger, lookup func(int32) *conn) (poller, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("gobwas: epoll_create1: %w", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("gobwas: epoll: %w", err)
	}
	p := &epoller{ep: os.NewFile(uintptr(fd), "gobwas-epoll"), log: log, lookup: lookup, work: newWorkers(), done: make(chan struct{})}
	go p.loop()
	return p, nil
}

func (p *epoller) adopt(nc net.Conn) (socket, error) { return adoptFD(nc) }

func (p *epoller) add(c *conn) error { return p.ctl(unix.EPOLL_CTL_ADD, c, watched) }

func (p *epoller) wait(c *conn) bool { return c.input.Load() && !c.done.Load() }

func (p *epoller) waitWritable(*conn) {} // the next edge reports room

func (p *epoller) remove(c *conn) { p.ctl(unix.EPOLL_CTL_DEL, c, 0) }

// ctl changes c's registration. The socket's descriptor is referenced
// meanwhile, so a late call can never touch a reused descriptor number;
// the event carries c's slot.
func (p *epoller) ctl(op int, c *conn, events uint32) error {
	raw, err := p.ep.SyscallConn()
	if err != nil {
		return err
	}
	var cerr error
	err = raw.Control(func(epfd uintptr) {
		cerr = c.sock.(*fdSocket).do(func(fd int) error {
			return unix.EpollCtl(int(epfd), op, fd, &unix.EpollEvent{Events: events, Fd: c.slot})
		})
	})
	if err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("gobwas: epoll_ctl: %w", err)
	}
	return nil
}

// loop hands socket events to workers until the epoll instance is closed.
func (p *epoller) loop() {
	defer close(p.done)
	raw, err := p.ep.SyscallConn()
	if err != nil {
		p.log.Error("gobwas: epoll unusable; this server stops reading", "err", err)
		return
	}
	events := make([]unix.EpollEvent, 128)
	var n int
	var werr error
	// The runtime forgets edges at the start of every raw.Read, so each
	// one looks before it waits.
	collect := func(epfd uintptr) bool {
		n, werr = unix.EpollWait(int(epfd), events, 0)
		return n != 0 || werr != nil && !errors.Is(werr, unix.EINTR)
	}
	for {
		if err := raw.Read(collect); err != nil {
			return // closed
		}
		if werr != nil {
			p.log.Error("gobwas: epoll_wait failed; this server stops reading", "err", werr)
			return
		}
		for _, ev := range events[:n] {
			if c := p.lookup(ev.Fd); c != nil {
				p.dispatch(c, ev.Events)
			}
		}
	}
}

// dispatch turns one event into work: room for a waiting writer, input
// for a connection nobody reads. Everything else is a flag for the
// goroutine already at work.
func (p *epoller) dispatch(c *conn, events uint32) {
	write := events&outEvents != 0 && c.roomReported()
	read := false
	if events&inEvents != 0 {
		c.input.Store(true)
		read = !c.reading.Load()
	}
	switch {
	case read && write:
		p.work.run(c, (*conn).readyBoth)
	case read:
		p.work.run(c, (*conn).readReady)
	case write:
		p.work.run(c, (*conn).drain)
	}
}

// close stops the loop and the workers and releases the epoll instance;
// connections must be gone by then.
func (p *epoller) close() {
	p.ep.Close()
	<-p.done
	p.work.close()
}
