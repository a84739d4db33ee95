package zocket_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/zockettest"
)

func TestInstances_ListsLiveInstancesWithSubscribersAndConnections(t *testing.T) {
	app := zocket.NewApp().Register("log", zocket.NewActor[logState]().Methods(record, tick))
	srv := zockettest.NewServer(app, zockettest.Options{})
	a := srv.Connect(t, "a", zocket.Identity{})
	b := srv.Connect(t, "b", zocket.Identity{})
	a.Write(`{"type":"state:sub","actor":"log","actorId":"one"}`)
	a.Next() // snapshot
	b.Call("log", "two", "tick", nil)
	a.Write(`{"type":"event:sub","actor":"log","actorId":"one"}`)
	a.Call("log", "one", "tick", nil)

	got := app.Instances()
	require.Len(t, got, 2)
	require.Equal(t, "one", got[0].ID)
	require.Equal(t, 1, got[0].StateSubscribers)
	require.Equal(t, 1, got[0].EventSubscribers)
	require.Equal(t, 1, got[0].Connections)
	require.Equal(t, "two", got[1].ID)
	require.Equal(t, 0, got[1].StateSubscribers)
	require.Equal(t, 1, got[1].Connections)
	for _, s := range got {
		require.Equal(t, "log", s.Actor)
		require.Zero(t, s.Queued)
	}
}
