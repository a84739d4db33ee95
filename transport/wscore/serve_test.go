package wscore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/transport/wscore"
)

func TestServe_ShutsDownAndReturnsNilWhenTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	stop := make(chan struct{})
	accepting := make(chan struct{})
	shutdowns := 0
	done := make(chan error, 1)
	go func() {
		done <- wscore.Serve(ctx,
			func() error { close(accepting); <-stop; return errors.New("listener closed") },
			func(context.Context) error { shutdowns++; close(stop); return nil })
	}()
	<-accepting
	cancel()
	require.NoError(t, <-done)
	assert.Equal(t, 1, shutdowns)
}

func TestServe_ShutsDownWhenAcceptFailsAndReturnsItsError(t *testing.T) {
	broken := errors.New("broken")
	shutdowns := 0
	err := wscore.Serve(context.Background(),
		func() error { return broken },
		func(ctx context.Context) error {
			shutdowns++
			_, ok := ctx.Deadline()
			assert.True(t, ok, "the shutdown is bounded")
			return nil
		})
	require.ErrorIs(t, err, broken)
	assert.Equal(t, 1, shutdowns)
}

func TestServe_JoinsTheShutdownError(t *testing.T) {
	broken, stuck := errors.New("broken"), errors.New("stuck")
	err := wscore.Serve(context.Background(),
		func() error { return broken },
		func(context.Context) error { return stuck })
	assert.ErrorIs(t, err, broken)
	assert.ErrorIs(t, err, stuck)
}

func TestClientIDs_AreUniqueAndSubjectSafe(t *testing.T) {
	var ids wscore.ClientIDs
	seen := map[string]bool{}
	for range 100 {
		id := ids.Next()
		assert.False(t, seen[id], id)
		assert.NotContains(t, id, ".")
		seen[id] = true
	}
}
