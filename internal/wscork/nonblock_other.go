//go:build !unix

package wscork

import "net"

// WriteNow is not available here: it never writes, so the caller leaves
// everything to a blocking write.
func WriteNow(net.Conn, []byte) (int, error) { return 0, ErrWouldBlock }
