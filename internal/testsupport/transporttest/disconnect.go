package transporttest

import (
	"errors"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/internal/testsupport/wstest"
)

// Disconnect checks that Handler.Disconnect closes a client's socket
// through the transport serving h at url: the client sees close code 1008
// and the reason given.
func Disconnect(t *testing.T, h *zocket.Handler, url string) {
	c := wstest.DialWelcome(t, url)
	require.True(t, h.Disconnect(c.ClientID, "token revoked"))
	var ce websocket.CloseError
	require.True(t, errors.As(c.Err(), &ce), "closed by the server")
	assert.Equal(t, websocket.StatusPolicyViolation, ce.Code)
	assert.Equal(t, "token revoked", ce.Reason)
}
