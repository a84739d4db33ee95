package wsepoll_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/transport/wscore"
	"github.com/zocket-go/zocket/transport/wsepoll"
)

func TestNew_RefusesNegativeTimeoutsOfItsOwn(t *testing.T) {
	for field, opts := range map[string]wsepoll.Options{
		"ReadTimeout":      {ReadTimeout: -time.Second},
		"HandshakeTimeout": {HandshakeTimeout: -time.Second},
	} {
		_, err := wsepoll.New(zocket.NewHandler(zocket.NewApp()), opts)
		require.ErrorIs(t, err, wscore.ErrInvalidOptions, field)
		assert.ErrorContains(t, err, field)
	}
}

func TestServe_WithInvalidOptionsReturnsTheErrorAndClosesTheListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	err = wsepoll.Serve(context.Background(), ln, zocket.NewApp(), wsepoll.Options{ReadLimit: -1})
	require.ErrorIs(t, err, wscore.ErrInvalidOptions)
	_, err = ln.Accept()
	assert.True(t, errors.Is(err, net.ErrClosed), "the listener is closed: %v", err)
}

func TestListenAndServe_ReturnsNilWhenTheContextEndsAndLeavesTheAppOpen(t *testing.T) {
	app := zocket.NewApp()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, wsepoll.ListenAndServe(ctx, "127.0.0.1:0", app, wsepoll.Options{}))
	_, err := app.Invoke(t.Context(), "nobody", "1", "m", nil)
	assert.NotErrorIs(t, err, zocket.ErrClosed)
}
