//go:build !unix

package wshttp

import "net"

// writeNow is not available here: everything goes to the writer goroutine.
func writeNow(net.Conn, []byte) (int, error) { return 0, errWouldBlock }
