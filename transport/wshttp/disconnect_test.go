package wshttp_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/internal/testsupport/transporttest"
	"github.com/zocket-go/zocket/transport/wshttp"
)

// Handler.Disconnect closes the socket with 1008 and the reason.
func TestDisconnect_ClosesTheSocketWithPolicyViolation(t *testing.T) {
	h := zocket.NewHandler(transporttest.App())
	s, err := wshttp.New(h, wshttp.Options{})
	require.NoError(t, err)
	srv := httptest.NewServer(s)
	t.Cleanup(func() {
		srv.Close()
		_ = s.Shutdown(t.Context())
	})
	transporttest.Disconnect(t, h, "ws"+strings.TrimPrefix(srv.URL, "http"))
}
