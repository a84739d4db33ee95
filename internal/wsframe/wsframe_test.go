package wsframe

import (
	"bytes"
	"testing"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Headers decode with gobwas/ws at every length boundary.
func TestAppendHeaderMatchesRFC6455(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 127, 65535, 65536, 1 << 20} {
		for _, op := range []byte{OpText, OpClose, OpPing, OpPong} {
			b := AppendHeader(nil, op, n)
			h, err := ws.ReadHeader(bytes.NewReader(b))
			require.NoError(t, err, "n=%d", n)
			assert.Equal(t, ws.Header{Fin: true, OpCode: ws.OpCode(op), Length: int64(n)}, h, "n=%d", n)
			assert.Equal(t, ws.HeaderSize(h), len(b))
		}
	}
}
