package zocket_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/storage/memstore"
)

var (
	alarmRang = zocket.MethodNoResult("rang", func(c *nc, text string) error {
		if text == "fail" {
			return errors.New("refused")
		}
		c.State.Items = append(c.State.Items, text)
		return nil
	})
	setAlarm = zocket.Method("set", func(c *nc, in struct {
		Text string        `json:"text"`
		In   time.Duration `json:"in"`
	}) (zocket.AlarmID, error) {
		return alarmRang.At(c, time.Now().Add(in.In), in.Text), nil
	})
	cancelAlarm = zocket.Method("cancel", func(c *nc, id zocket.AlarmID) (bool, error) {
		return zocket.CancelAlarm(c, id), nil
	})
	countAlarms = zocket.MethodNoInput("alarms", func(c *nc) (int, error) { return len(zocket.Alarms(c)), nil })
)

func alarmApp(st zocket.Storage) *zocket.App {
	return zocket.NewApp(zocket.WithStorage(st)).Register("notes",
		notesActor().Methods(alarmRang, setAlarm, cancelAlarm, countAlarms).IdleTimeout(time.Minute))
}

func set(t *testing.T, app *zocket.App, id, text string, in time.Duration) zocket.AlarmID {
	t.Helper()
	a, err := setAlarm.Invoke(context.Background(), app, "notes", id, struct {
		Text string        `json:"text"`
		In   time.Duration `json:"in"`
	}{text, in})
	require.NoError(t, err)
	return a
}

func TestAlarm_RunsItsMethodWhenDueAndIsRemoved(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		app := alarmApp(memstore.New())
		defer closeApp(t, app)
		set(t, app, "n", "wake", time.Hour)
		advance(59 * time.Minute)
		require.Empty(t, readState(t, app, "n").Items)
		advance(time.Minute)
		require.Equal(t, []string{"wake"}, readState(t, app, "n").Items)
		n, err := countAlarms.Invoke(context.Background(), app, "notes", "n", zocket.None{})
		require.NoError(t, err)
		require.Zero(t, n)
	})
}

func TestAlarm_WakesAPassivatedInstanceAfterARestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := memstore.New()
		app := alarmApp(st)
		set(t, app, "n", "after restart", 3*time.Hour)
		closeApp(t, app)

		app = alarmApp(st)
		defer closeApp(t, app)
		synctest.Wait() // the stored alarms are loaded
		require.Zero(t, app.Size(), "nothing active before the alarm")
		advance(3 * time.Hour)
		require.Equal(t, 1, app.Size(), "the alarm activated its instance")
		require.Equal(t, []string{"after restart"}, readState(t, app, "n").Items)
		stored, err := st.Load(context.Background(), "notes", "n")
		require.NoError(t, err)
		require.Empty(t, stored.Alarms, "removed by the commit of its call")
	})
}

func TestAlarm_CancelledAlarmNeverRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		app := alarmApp(memstore.New())
		defer closeApp(t, app)
		id := set(t, app, "n", "never", time.Hour)
		set(t, app, "n", "kept", 2*time.Hour)
		ok, err := cancelAlarm.Invoke(context.Background(), app, "notes", "n", id)
		require.NoError(t, err)
		require.True(t, ok)
		advance(3 * time.Hour)
		require.Equal(t, []string{"kept"}, readState(t, app, "n").Items)
	})
}

func TestAlarm_AFailingCallIsNotRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := memstore.New()
		app := alarmApp(st)
		defer closeApp(t, app)
		set(t, app, "n", "fail", time.Minute)
		advance(time.Hour)
		n, err := countAlarms.Invoke(context.Background(), app, "notes", "n", zocket.None{})
		require.NoError(t, err)
		require.Zero(t, n)
		synctest.Wait()
		stored, err := st.Load(context.Background(), "notes", "n")
		require.NoError(t, err)
		require.Empty(t, stored.Alarms)
	})
}

func TestAlarm_OnAnEphemeralInstanceIsDropped(t *testing.T) {
	app := zocket.NewApp().Register("notes", notesActor().Methods(alarmRang, setAlarm))
	defer closeApp(t, app)
	require.Zero(t, set(t, app, "n", "x", time.Hour))
}
