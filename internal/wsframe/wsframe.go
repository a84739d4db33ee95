// Package wsframe encodes the WebSocket frame headers a server writes
// (RFC 6455 section 5.2), for the transports that write frames themselves.
package wsframe

import "encoding/binary"

// Opcodes of the frames a server writes.
const (
	OpText  byte = 0x1
	OpClose byte = 0x8
	OpPing  byte = 0x9
	OpPong  byte = 0xA
)

// AppendHeader appends the 2–10 byte header of a final, unmasked frame
// with opcode op and an n-byte payload.
func AppendHeader(dst []byte, op byte, n int) []byte {
	dst = append(dst, 0x80|op)
	switch {
	case n < 126:
		return append(dst, byte(n))
	case n <= 0xFFFF:
		return binary.BigEndian.AppendUint16(append(dst, 126), uint16(n))
	}
	return binary.BigEndian.AppendUint64(append(dst, 127), uint64(n))
}
