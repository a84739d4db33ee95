package zocket_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

// An instance may destroy itself from its own method: Destroy returns at
// once, the call commits and is answered, and onDeactivate runs right
// after it, seeing the committed state.
func TestDestroyFromOwnMethod_RunsOnDeactivateAfterTheCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		seen := make(chan int, 1)
		selfDestroy := zocket.MethodNoInput("selfDestroy", func(c *lc) (int, error) {
			c.State.N++
			if err := c.App().Destroy(c.Context(), c.Actor, c.ActorID); err != nil {
				return 0, err
			}
			return c.State.N, nil
		})
		app := zocket.NewApp().Register("log", zocket.NewActor[logState]().Methods(selfDestroy).
			OnDeactivate(func(l *zocket.Lifecycle[logState]) error { seen <- l.State.N; return nil }))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()

		raw, err := app.Invoke(ctx, "log", "x", "selfDestroy", nil)
		require.NoError(t, err)
		assert.JSONEq(t, "1", string(raw))
		assert.Equal(t, 1, <-seen, "onDeactivate saw the call's commit")
		assert.Zero(t, app.Size())
		require.NoError(t, app.Close(ctx))
	})
}
