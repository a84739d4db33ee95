package transporttest

import (
	"errors"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/internal/testsupport/wstest"
	"github.com/zocket-go/zocket/transport/wscore"
)

// disconnectClosesWithPolicyViolation: Handler.Disconnect closes a
// client's socket through the transport; the client sees 1008 and the
// reason given.
func disconnectClosesWithPolicyViolation(t *testing.T, h harness) {
	zh := zocket.NewHandler(App())
	_, url := h.startHandler(t, zh, wscore.Options{})
	c := wstest.DialWelcome(t, url)
	require.True(t, zh.Disconnect(c.ClientID, "token revoked"))
	var ce websocket.CloseError
	require.True(t, errors.As(c.Err(), &ce), "closed by the server")
	assert.Equal(t, websocket.StatusPolicyViolation, ce.Code)
	assert.Equal(t, "token revoked", ce.Reason)
}
