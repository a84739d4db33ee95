package replay_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/ai"
	"github.com/zocket-go/zocket/ai/replay"
)

func TestProvider_WithoutRespondRefusesToStreamWithAnError(t *testing.T) {
	_, err := (&replay.Provider{}).Stream(t.Context(), ai.Request{})
	require.ErrorIs(t, err, replay.ErrNoRespond)
}
