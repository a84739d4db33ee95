package gobwas_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/transport/gobwas"
	"github.com/zocket-go/zocket/transport/wscore"
)

func TestNew_RefusesNegativeTimeoutsOfItsOwn(t *testing.T) {
	for field, opts := range map[string]gobwas.Options{
		"ReadTimeout":      {ReadTimeout: -time.Second},
		"HandshakeTimeout": {HandshakeTimeout: -time.Second},
	} {
		_, err := gobwas.New(zocket.NewHandler(zocket.NewApp()), opts)
		require.ErrorIs(t, err, wscore.ErrInvalidOptions, field)
		assert.ErrorContains(t, err, field)
	}
}

func TestServe_WithInvalidOptionsReturnsTheErrorAndClosesTheListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	err = gobwas.Serve(context.Background(), ln, zocket.NewApp(), gobwas.Options{ReadLimit: -1})
	require.ErrorIs(t, err, wscore.ErrInvalidOptions)
	_, err = ln.Accept()
	assert.True(t, errors.Is(err, net.ErrClosed), "the listener is closed: %v", err)
}

func TestListenAndServe_ReturnsNilWhenTheContextEndsAndLeavesTheAppOpen(t *testing.T) {
	app := zocket.NewApp()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, gobwas.ListenAndServe(ctx, "127.0.0.1:0", app, gobwas.Options{}))
	_, err := app.Invoke(t.Context(), "nobody", "1", "m", nil)
	assert.NotErrorIs(t, err, zocket.ErrClosed)
}
