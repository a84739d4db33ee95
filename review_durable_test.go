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

func TestGated_AFailedFirstWriteTakesAFreshInstanceBackToItsInitialState(t *testing.T) {
	st := &failingStore{Storage: memstore.New()}
	app := notesApp(st)
	defer closeApp(t, app)
	ctx := context.Background()
	st.set("fresh", errors.New("no space left on device"))
	_, err := addNote.Invoke(ctx, app, "notes", "fresh", "lost")
	require.ErrorIs(t, err, zocket.ErrStorage)

	st.set("fresh", nil)
	_, err = addNote.Invoke(ctx, app, "notes", "fresh", "kept")
	require.NoError(t, err, "the next write follows what is stored: nothing")
	require.Equal(t, notes{Items: []string{"kept"}, N: 1}, readState(t, app, "fresh"), "the lost change is gone")
	require.EqualValues(t, 1, app.Instances()[0].Version)
}

// holdEnd blocks CallEnd of the method named in method until hold closes.
type holdEnd struct {
	zocket.NopObserver
	method string
	hold   chan struct{}
}

func (h *holdEnd) CallEnd(_ context.Context, c zocket.CallInfo, _ zocket.CallEnd) {
	if c.Method == h.method {
		<-h.hold
	}
}

func TestGated_AlarmsSetWhileAWriteFailsDoNotKeepTheInstanceFromLeaving(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs := &failingStore{Storage: memstore.New()}
		gs := &gateStore{Storage: fs, started: make(chan struct{}, 100), release: make(chan struct{}, 100)}
		proceed, armed := make(chan struct{}), make(chan struct{})
		ping := zocket.MethodNoIO("ping", func(*nc) error { return nil })
		arm := zocket.MethodNoIO("arm", func(c *nc) error {
			armed <- struct{}{}
			<-proceed
			ping.At(c, time.Now().Add(time.Hour), zocket.None{})
			return nil
		})
		obs := &holdEnd{method: "arm", hold: make(chan struct{})}
		app := zocket.NewApp(zocket.WithStorage(gs), zocket.WithObserver(obs)).
			Register("notes", notesActor().Methods(ping, arm))
		ctx := context.Background()
		gs.release <- struct{}{}
		_, err := addNote.Invoke(ctx, app, "notes", "n", "kept")
		require.NoError(t, err)
		<-gs.started

		fs.set("n", errors.New("no space left on device"))
		lost := make(chan error, 1)
		go func() { _, err := addNote.Invoke(ctx, app, "notes", "n", "lost"); lost <- err }()
		<-gs.started // the write of "lost" is under way
		armErr := make(chan error, 1)
		go func() { _, err := app.Invoke(ctx, "notes", "n", "arm", nil); armErr <- err }()
		<-armed // arm runs while the write fails
		gs.release <- struct{}{}
		require.ErrorIs(t, <-lost, zocket.ErrStorage)
		close(proceed) // arm commits its alarm while the instance is broken
		synctest.Wait()
		close(obs.hold)
		require.ErrorIs(t, <-armErr, zocket.ErrStorage)
		fs.set("n", nil)

		wait, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		require.NoError(t, app.Destroy(wait, "notes", "n"), "the instance's last flush completes")
		require.Equal(t, notes{Items: []string{"kept"}, N: 1}, readState(t, app, "n"))
		close(gs.release)
		closeApp(t, app)
	})
}
