package zocket_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/storage/memstore"
)

func TestPlacement_CallsToAnInstanceHostedElsewhereFailWithoutActivatingIt(t *testing.T) {
	app := alarmApp(memstore.New())
	defer closeApp(t, app)
	app.SetPlacement(func(_, id string) bool { return id != "far" })

	_, err := countAlarms.Invoke(context.Background(), app, "notes", "far", zocket.None{})
	require.ErrorIs(t, err, zocket.ErrElsewhere)
	require.EqualError(t, err, "Actor notes/far is hosted elsewhere")
	require.Zero(t, app.Size())

	_, err = countAlarms.Invoke(context.Background(), app, "notes", "near", zocket.None{})
	require.NoError(t, err)
	require.Equal(t, 1, app.Size())
}

func TestPlacement_AlarmsFireOnlyWhereTheirInstanceIsLocalAndReloadPicksThemUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := memstore.New()
		first := alarmApp(st)
		set(t, first, "n", "rang", time.Hour)
		closeApp(t, first)

		var local atomic.Bool // "n" starts hosted elsewhere
		app := alarmApp(st)
		defer closeApp(t, app)
		app.SetPlacement(func(string, string) bool { return local.Load() })
		synctest.Wait() // the stored alarms are loaded
		advance(time.Hour)
		require.Zero(t, app.Size(), "an alarm of an instance hosted elsewhere does not activate it")

		local.Store(true) // the instance moves here
		require.NoError(t, app.ReloadAlarms(context.Background()))
		advance(time.Second)
		require.Equal(t, 1, app.Size(), "the reloaded alarm activated its instance")
		require.Equal(t, []string{"rang"}, readState(t, app, "n").Items)
	})
}
