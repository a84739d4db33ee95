package wsepoll

import (
	"net"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// fdSocket is a socket taken out of the Go runtime for epoll: a duplicate
// of the connection's descriptor, after which the net.Conn (its poll
// descriptor, addresses and runtime registration, ≈ 500 bytes) is closed.
//
// Descriptor numbers are reused as soon as they are closed, so every
// system call on fd holds a reference, and the descriptor is closed when
// close was asked and the last reference is gone: a call never reaches
// another connection's socket.
type fdSocket struct {
	fd    int
	state atomic.Uint64 // references in the low bits, plus the flags below
}

const (
	fdClosing uint64 = 1 << 62 // close was asked
	fdClosed  uint64 = 1 << 63 // the descriptor is closed
)

// adoptFD duplicates nc's descriptor and closes nc.
func adoptFD(nc net.Conn) (*fdSocket, error) {
	ns, err := newNetSocket(nc)
	if err != nil {
		return nil, err
	}
	fd := -1
	cerr := ns.raw.Control(func(orig uintptr) {
		fd, err = unix.FcntlInt(orig, unix.F_DUPFD_CLOEXEC, 0)
	})
	nc.Close()
	if cerr != nil {
		return nil, cerr
	}
	if err != nil {
		return nil, err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &fdSocket{fd: fd}, nil
}

// do runs f on the descriptor unless the socket is closing.
func (s *fdSocket) do(f func(fd int) error) error {
	if s.state.Add(1)&fdClosing != 0 {
		s.release()
		return net.ErrClosed
	}
	err := f(s.fd)
	s.release()
	return err
}

func (s *fdSocket) release() {
	if s.state.Add(^uint64(0)) == fdClosing {
		s.finish()
	}
}

// finish closes the descriptor, once, when closing and unreferenced.
func (s *fdSocket) finish() {
	if s.state.CompareAndSwap(fdClosing, fdClosing|fdClosed) {
		unix.Close(s.fd)
	}
}

func (s *fdSocket) close() {
	s.state.Or(fdClosing)
	s.finish()
}

func (s *fdSocket) read(b []byte) (int, error) {
	var n int
	var rerr error
	err := s.do(func(fd int) error {
		n, rerr = ignoringEINTR(syscall.Read, fd, b)
		return nil
	})
	return result(n, len(b), err, rerr, true)
}

func (s *fdSocket) write(b []byte) (int, error) {
	var n int
	var werr error
	err := s.do(func(fd int) error {
		n, werr = ignoringEINTR(syscall.Write, fd, b)
		return nil
	})
	return result(n, len(b), err, werr, false)
}
