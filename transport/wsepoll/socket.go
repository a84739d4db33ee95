package wsepoll

import (
	"errors"
	"io"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// socket is a connection's byte stream after the handshake. Both calls
// are non-blocking: the poller says when to try again.
type socket interface {
	// read reads what is there into b: errWouldBlock when nothing is,
	// io.EOF at the end of input.
	read(b []byte) (int, error)
	// write writes what the socket takes of b: errWouldBlock when that
	// is not all of it.
	write(b []byte) (int, error)
	// close closes the socket; calls under way finish first.
	close()
}

var (
	// errWouldBlock: the socket has no input, or no room for all output.
	errWouldBlock = errors.New("wsepoll: would block")
	errNotSocket  = errors.New("wsepoll: connection is not a socket")
)

// netSocket is a socket that stays a net.Conn, for the goroutine poller:
// system calls go through the runtime's poll descriptor, which also does
// the waiting.
type netSocket struct {
	nc  net.Conn
	raw syscall.RawConn
}

func newNetSocket(nc net.Conn) (*netSocket, error) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil, errNotSocket
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil, err
	}
	return &netSocket{nc: nc, raw: raw}, nil
}

func (s *netSocket) read(b []byte) (int, error) {
	var n int
	var rerr error
	err := s.raw.Read(func(fd uintptr) bool {
		n, rerr = ignoringEINTR(syscall.Read, int(fd), b)
		return true // never wait: the poller does
	})
	return result(n, len(b), err, rerr, true)
}

func (s *netSocket) write(b []byte) (int, error) {
	var n int
	var werr error
	err := s.raw.Write(func(fd uintptr) bool {
		n, werr = ignoringEINTR(syscall.Write, int(fd), b)
		return true
	})
	return result(n, len(b), err, werr, false)
}

func (s *netSocket) close() { s.nc.Close() }

// waitReadable blocks until the socket has input (or is closed: false).
func (s *netSocket) waitReadable() bool { return waitOn(s.raw.Read, unix.POLLIN) }

// waitWritable blocks until the socket has room (or is closed: false).
func (s *netSocket) waitWritable() bool { return waitOn(s.raw.Write, unix.POLLOUT) }

// waitOn makes the runtime wait for readiness without doing any I/O. The
// runtime forgets earlier edges when op starts, so readiness is checked
// with poll(2) before waiting.
func waitOn(op func(func(uintptr) bool) error, events int16) bool {
	err := op(func(fd uintptr) bool {
		fds := []unix.PollFd{{Fd: int32(fd), Events: events}}
		n, err := unix.Poll(fds, 0)
		return n > 0 || err != nil && err != unix.EINTR
	})
	return err == nil
}

func ignoringEINTR(op func(int, []byte) (int, error), fd int, b []byte) (int, error) {
	for {
		n, err := op(fd, b)
		if err != syscall.EINTR {
			return n, err
		}
	}
}

// result maps a non-blocking system call's outcome to a socket's.
func result(n, want int, err, callErr error, reading bool) (int, error) {
	if err == nil {
		err = callErr
	}
	if n < 0 {
		n = 0
	}
	switch {
	case err == syscall.EAGAIN:
		return n, errWouldBlock
	case err != nil:
		return n, err
	case reading && n == 0 && want > 0:
		return 0, io.EOF
	case !reading && n < want:
		return n, errWouldBlock
	}
	return n, nil
}
