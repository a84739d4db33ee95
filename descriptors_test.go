package zocket_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

type walletState struct {
	Balance int `json:"balance"`
}

type auditState struct {
	Entries int `json:"entries"`
}

func TestInvoke_RefusesADescriptorOfAnotherActorType(t *testing.T) {
	ran := 0
	walletReset := zocket.MethodNoResult("reset", func(c *zocket.Context[walletState, zocket.NoData], to int) error {
		c.State.Balance = to
		return nil
	})
	auditReset := zocket.MethodNoResult("reset", func(c *zocket.Context[auditState, zocket.NoData], to int) error {
		ran++
		c.State.Entries = to
		return nil
	})
	app := zocket.NewApp().
		Register("wallet", zocket.NewActor[walletState]().Methods(walletReset)).
		Register("audit", zocket.NewActor[auditState]().Methods(auditReset))
	ctx := context.Background()

	_, err := walletReset.Invoke(ctx, app, "audit", "a1", 7)
	require.ErrorIs(t, err, zocket.ErrUnknownMethod)
	assert.Zero(t, ran, "the other actor type's method must not run")

	_, err = auditReset.Invoke(ctx, app, "audit", "a1", 7)
	require.NoError(t, err)
	assert.Equal(t, 1, ran)
}

func TestTell_DropsADescriptorOfAnotherActorType(t *testing.T) {
	var logs syncBuffer
	ran := make(chan struct{}, 2)
	walletPing := zocket.MethodNoIO("ping", func(*zocket.Context[walletState, zocket.NoData]) error { return nil })
	auditPing := zocket.MethodNoIO("ping", func(*zocket.Context[auditState, zocket.NoData]) error {
		ran <- struct{}{}
		return nil
	})
	send := zocket.MethodNoIO("send", func(c *zocket.Context[walletState, zocket.NoData]) error {
		walletPing.Tell(c, "audit", "a1", zocket.None{})
		return nil
	})
	app := zocket.NewApp(zocket.WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))).
		Register("wallet", zocket.NewActor[walletState]().Methods(walletPing, send)).
		Register("audit", zocket.NewActor[auditState]().Methods(auditPing))
	ctx := context.Background()
	_, err := send.Invoke(ctx, app, "wallet", "w1", zocket.None{})
	require.NoError(t, err)
	assert.Contains(t, logs.String(), "tell dropped", "refused when Tell is called, before the caller commits")
	_, err = auditPing.Invoke(ctx, app, "audit", "a1", zocket.None{})
	require.NoError(t, err)
	assert.Len(t, ran, 1, "only the direct call ran")
}
