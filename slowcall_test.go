package zocket_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

// A call that runs longer than WithSlowCallWarning is reported once,
// with the actor, instance and method; calls under the limit are not, even
// back to back for longer than the limit.
func TestSlowCall_WarnsOncePerOverrunCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs syncBuffer
		nap := zocket.MethodNoResult("nap", func(c *lc, d time.Duration) error {
			time.Sleep(d)
			return nil
		})
		app := zocket.NewApp(zocket.WithSlowCallWarning(time.Second),
			zocket.WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))).
			Register("log", zocket.NewActor[logState]().Methods(nap))
		ctx := context.Background()

		_, err := app.Invoke(ctx, "log", "x", "nap", []byte(`999000000`)) // 999 ms
		require.NoError(t, err)
		assert.NotContains(t, logs.String(), "still running")
		for range 10 { // back to back, 3 s in all: the watch re-arms for each young call
			_, err = app.Invoke(ctx, "log", "x", "nap", []byte(`300000000`)) // 300 ms
			require.NoError(t, err)
		}
		assert.NotContains(t, logs.String(), "still running")

		_, err = app.Invoke(ctx, "log", "x", "nap", []byte(`5000000000`)) // 5 s
		require.NoError(t, err)
		out := logs.String()
		assert.Equal(t, 1, strings.Count(out, "still running"), out)
		assert.Contains(t, out, "actor=log actorId=x method=nap")
		require.NoError(t, app.Close(ctx))
	})
}

// A call that never returns does not hold Close beyond its context.
func TestSlowCall_NeverReturningCallDoesNotHoldClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		app, _, release, _ := blockingApp(t, true)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		assert.ErrorIs(t, app.Close(ctx), context.DeadlineExceeded)
		close(release)
	})
}
