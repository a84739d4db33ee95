package zocket_test

import (
	"context"
	"errors"
	"testing"

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
