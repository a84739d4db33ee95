package wsepoll

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"

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
// goroutine, the loop, collects events without blocking a thread: it parks
// like any goroutine waiting for a socket. The loop serves the last event
// of each batch itself and hands the others to workers: at low load (one
// event at a time) a message then costs no goroutine hand-off. Should the
// connection it serves lend it to a call that overruns, the watchdog that
// moves the connection's reading also starts a new loop (resumed), and the
// old one ends when the call returns.
type epoller struct {
	ep      *os.File // the epoll instance, non-blocking, in the runtime poller
	log     *slog.Logger
	lookup  func(slot int32) *conn
	work    *workers
	gen     atomic.Uint64           // the current loop's generation
	serving atomic.Pointer[serving] // what the current loop is serving itself
	loops   sync.WaitGroup
}

// serving is a loop's record of the connection it is serving on its own
// goroutine; one per loop, so that a finished loop can only clear its own.
type serving struct{ c atomic.Pointer[conn] }

// inlineBudget is how many reads with input the loop does for one
// connection before handing it to a worker, so that a connection that
// never stops sending cannot hold up the others.
const inlineBudget = 4

const (
	inEvents  = unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLHUP | unix.EPOLLERR
	outEvents = unix.EPOLLOUT | unix.EPOLLHUP | unix.EPOLLERR
	watched   = unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET
)

func newEpoll(log *slog.Logger, lookup func(int32) *conn) (poller, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("wsepoll: epoll_create1: %w", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("wsepoll: epoll: %w", err)
	}
	p := &epoller{ep: os.NewFile(uintptr(fd), "wsepoll-epoll"), log: log, lookup: lookup, work: newWorkers()}
	p.loops.Add(1)
	go p.loop(0)
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
		return fmt.Errorf("wsepoll: epoll_ctl: %w", err)
	}
	return nil
}

// loop collects socket events until the epoll instance is closed, or
// until a newer loop replaced it (gen).
func (p *epoller) loop(gen uint64) {
	defer p.loops.Done()
	raw, err := p.ep.SyscallConn()
	if err != nil {
		p.log.Error("wsepoll: epoll unusable; this server stops reading", "err", err)
		return
	}
	events := make([]unix.EpollEvent, 128)
	self := &serving{}
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
			p.log.Error("wsepoll: epoll_wait failed; this server stops reading", "err", werr)
			return
		}
		for i, ev := range events[:n] {
			c := p.lookup(ev.Fd)
			switch {
			case c == nil:
			case i < n-1:
				p.dispatch(c, ev.Events)
			default:
				p.serve(self, c, ev.Events)
				if p.gen.Load() != gen {
					return // a newer loop took over while c's call overran
				}
			}
		}
	}
}

// dispatch turns one event into work for a worker: room for a waiting
// writer, input for a connection nobody reads. Everything else is a flag
// for the goroutine already at work.
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

// serve does the work of one event on the loop's own goroutine.
func (p *epoller) serve(self *serving, c *conn, events uint32) {
	if events&outEvents != 0 && c.roomReported() {
		c.drain() // never blocks
	}
	if events&inEvents == 0 {
		return
	}
	c.input.Store(true)
	if !c.reading.CompareAndSwap(false, true) {
		return
	}
	self.c.Store(c)
	p.serving.Store(self)
	spent := c.readOn(inlineBudget)
	p.serving.CompareAndSwap(self, nil) // unless resumed already cleared it
	self.c.Store(nil)
	if spent {
		p.work.run(c, readOnUnbounded)
	}
}

func readOnUnbounded(c *conn) { c.readOn(0) }

// resumed starts a new loop if c's overrunning call holds the loop's
// goroutine.
func (p *epoller) resumed(c *conn) {
	if s := p.serving.Load(); s != nil && s.c.Load() == c && p.serving.CompareAndSwap(s, nil) {
		p.loops.Add(1)
		go p.loop(p.gen.Add(1))
	}
}

// close stops the loops and the workers and releases the epoll instance;
// connections must be gone by then.
func (p *epoller) close() {
	p.ep.Close()
	p.loops.Wait()
	p.work.close()
}
