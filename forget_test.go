package zocket_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/storage/memstore"
	"github.com/zocket-go/zocket/zockettest"
)

func TestForget_DeletesTheStoredStateAndAlarmsAndStartsAgain(t *testing.T) {
	store := memstore.New()
	app := alarmApp(store)
	ctx := context.Background()
	srv := zockettest.NewServer(app, zockettest.Options{})
	c := dial(t, srv, "c", zocket.Identity{})
	c.Write(`{"type":"state:sub","actor":"notes","actorId":"n"}`)
	c.Next()
	add(t, app, "n", 3)
	set(t, app, "n", "later", time.Hour)
	for range 3 {
		c.Next()
	}

	require.NoError(t, app.Forget(ctx, "notes", "n"))
	stored, err := store.Load(ctx, "notes", "n")
	require.NoError(t, err)
	require.Zero(t, stored.Version, "nothing stored")
	list, err := store.Alarms(ctx)
	require.NoError(t, err)
	require.Empty(t, list)
	snap := c.Next()
	require.Equal(t, "state:snapshot", snap.Type(), "subscribers see the fresh state")
	require.Equal(t, map[string]any{"items": []any{}, "n": 0.0}, snap["state"])
	require.Equal(t, notes{Items: []string{}}, readState(t, app, "n"))

	add(t, app, "n", 1)
	closeApp(t, app)
	app = alarmApp(store)
	defer closeApp(t, app)
	require.Equal(t, []string{"0"}, readState(t, app, "n").Items, "it starts again from version 0")
}

func TestForget_AnUnreadableStoredStateCanBeForgotten(t *testing.T) {
	store := memstore.New()
	ctx := context.Background()
	require.Nil(t, store.Write(ctx, []zocket.Write{{Actor: "notes", ID: "bad",
		Snapshot: &zocket.Snapshot{Version: 4, State: json.RawMessage(`{"items":7}`)}}}))
	app := notesApp(store)
	defer closeApp(t, app)
	_, err := addNote.Invoke(ctx, app, "notes", "bad", "x")
	require.ErrorIs(t, err, zocket.ErrStorage)

	require.NoError(t, app.Forget(ctx, "notes", "bad"))
	_, err = addNote.Invoke(ctx, app, "notes", "bad", "x")
	require.NoError(t, err)
	require.Equal(t, []string{"x"}, readState(t, app, "bad").Items)
}

func TestForget_WithoutStorageResetsTheState(t *testing.T) {
	app := zocket.NewApp().Register("notes", notesActor())
	defer closeApp(t, app)
	add(t, app, "n", 2)
	require.NoError(t, app.Forget(context.Background(), "notes", "n"))
	require.Empty(t, readState(t, app, "n").Items)
}

func TestForget_AnUnknownActorIsAnError(t *testing.T) {
	app := zocket.NewApp().Register("notes", notesActor())
	defer closeApp(t, app)
	err := app.Forget(context.Background(), "nope", "n")
	require.ErrorIs(t, err, zocket.ErrUnknownActor)
	require.Zero(t, app.Size(), "nothing created")
}
