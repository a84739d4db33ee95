package wshttp_test

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/transport/wscore"
	"github.com/zocket-go/zocket/transport/wshttp"
)

func TestNew_RefusesAnUnknownCompressionMode(t *testing.T) {
	_, err := wshttp.New(zocket.NewHandler(zocket.NewApp()), wshttp.Options{Compression: 42})
	require.ErrorIs(t, err, wscore.ErrInvalidOptions)
	assert.ErrorContains(t, err, "Compression")
}

func TestServe_WithInvalidOptionsReturnsTheErrorAndClosesTheListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	err = wshttp.Serve(context.Background(), ln, zocket.NewApp(), wshttp.Options{SendQueue: -1})
	require.ErrorIs(t, err, wscore.ErrInvalidOptions)
	_, err = ln.Accept()
	assert.True(t, errors.Is(err, net.ErrClosed), "the listener is closed: %v", err)
}

func TestListenAndServe_ReturnsNilWhenTheContextEndsAndLeavesTheAppOpen(t *testing.T) {
	app := zocket.NewApp()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, wshttp.ListenAndServe(ctx, "127.0.0.1:0", app, wshttp.Options{}))
	_, err := app.Invoke(t.Context(), "nobody", "1", "m", nil)
	assert.NotErrorIs(t, err, zocket.ErrClosed)
}
