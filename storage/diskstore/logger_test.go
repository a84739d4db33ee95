package diskstore

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

func TestOpen_PassesTheEnginesEventsToTheLogger(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := Open(t.TempDir(), Options{Logger: logger})
	require.NoError(t, err)
	defer s.Close()
	writeOne(t, s, zocket.Write{Actor: "room", ID: "a", Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(`{}`)}})
	require.NoError(t, s.db.Flush())

	require.Contains(t, buf.String(), "component=pebble")
	require.Contains(t, buf.String(), "flushed")
}
