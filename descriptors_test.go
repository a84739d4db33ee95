package zocket_test

import (
	"context"
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
	walletReset := zocket.MethodNoResult("reset", func(c *zocket.Context[walletState, zocket.NoCtx], to int) error {
		c.State.Balance = to
		return nil
	})
	auditReset := zocket.MethodNoResult("reset", func(c *zocket.Context[auditState, zocket.NoCtx], to int) error {
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
