package zocket_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

// tagger is an Observer that adds its name to a call's context, after the
// names earlier observers added, and writes down the list each CallEnd
// sees.
type tagger struct {
	zocket.NopObserver
	name string
	seen [][]string
}

type tagsKey struct{}

func (t *tagger) CallStart(ctx context.Context, _ zocket.CallInfo) context.Context {
	tags, _ := ctx.Value(tagsKey{}).([]string)
	return context.WithValue(ctx, tagsKey{}, append(tags[:len(tags):len(tags)], t.name))
}

func (t *tagger) CallEnd(ctx context.Context, _ zocket.CallInfo, _ zocket.CallEnd) {
	tags, _ := ctx.Value(tagsKey{}).([]string)
	t.seen = append(t.seen, tags)
}

func TestObservers_EveryObserverHearsEverythingInOrder(t *testing.T) {
	a, b := &recorder{}, &recorder{}
	app := observedApp(zocket.Observers(a, nil, b))
	ctx := context.Background()
	_, err := app.Invoke(ctx, "obs", "x", "add", json.RawMessage("1"))
	require.NoError(t, err)
	h := zocket.NewHandler(app)
	sub := zocket.NewLocalConn("sub", zocket.Identity{})
	h.Attach(sub)
	h.OnMessage(sub, []byte(`{"type":"event:sub","actor":"obs","actorId":"x"}`))
	require.NoError(t, app.Destroy(ctx, "obs", "x"))

	want := []string{
		"activated obs/x",
		"start obs/x.add", "end obs/x.add ok",
		"subscribed obs/x events",
		"unsubscribed obs/x events",
		"deactivated obs/x",
	}
	assert.Equal(t, want, a.lines())
	assert.Equal(t, want, b.lines())
}

func TestObservers_CallStartIsChainedAndEveryCallEndGetsTheLastContext(t *testing.T) {
	first, second := &tagger{name: "first"}, &tagger{name: "second"}
	app := observedApp(zocket.Observers(first, second))
	_, err := app.Invoke(context.Background(), "obs", "x", "add", json.RawMessage("1"))
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"first", "second"}}, first.seen)
	assert.Equal(t, [][]string{{"first", "second"}}, second.seen)
}

func TestObservers_OneIsReturnedAsItIsAndNoneIsNil(t *testing.T) {
	only := &recorder{}
	assert.Same(t, only, zocket.Observers(nil, only, nil), "no wrapper around a single observer")
	assert.Nil(t, zocket.Observers())
	assert.Nil(t, zocket.Observers(nil, nil), "an App given it has no observer")
}
