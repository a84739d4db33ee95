//go:build unix

package wscork

import (
	"net"
	"syscall"
)

// WriteNow makes one non-blocking write attempt of b on the socket: it
// returns how much the kernel took, without waiting for room.
func WriteNow(nc net.Conn, b []byte) (int, error) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return 0, ErrWouldBlock
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int
	var werr error
	err = raw.Write(func(fd uintptr) bool {
		for {
			n, werr = syscall.Write(int(fd), b)
			if werr != syscall.EINTR {
				return true // never wait for writability
			}
		}
	})
	if err != nil {
		return 0, err
	}
	if n < 0 {
		n = 0
	}
	if werr == syscall.EAGAIN {
		werr = ErrWouldBlock
	}
	return n, werr
}
