package zocket_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

type searchOpts struct {
	Limit int    `json:"limit"`
	Sort  string `json:"sort"`
}

type searchInput struct {
	Name string     `json:"name"`
	Opts searchOpts `json:"opts"`
}

func (i *searchInput) SetDefaults() { i.Opts.Limit = 10 }

// echoApp serves one method "m" on actor "s" that returns its input.
func echoApp[I any](t *testing.T) *zocket.App {
	t.Helper()
	m := zocket.Method("m", func(_ *zocket.Context[canvas, zocket.NoData], in I) (I, error) { return in, nil })
	return zocket.NewApp().Register("s", zocket.NewActor[canvas]().Methods(m))
}

func TestInput_DefaultOfANestedMemberMakesItOptional(t *testing.T) {
	app := echoApp[searchInput](t)
	res, err := app.Invoke(context.Background(), "s", "1", "m", json.RawMessage(`{"name":"x","opts":{"sort":"asc"}}`))
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"x","opts":{"limit":10,"sort":"asc"}}`, string(res))

	_, err = app.Invoke(context.Background(), "s", "1", "m", json.RawMessage(`{"name":"x","opts":{}}`))
	assert.Equal(t, []zocket.Issue{{Message: "Invalid input: expected string, received undefined",
		Path: []any{"opts", "sort"}}}, issuesOf(t, err), "members without a default stay required")
}

func TestInput_TheLastOfDuplicateKeysCountsAsInEncodingJSON(t *testing.T) {
	app := echoApp[point](t)
	res, err := app.Invoke(context.Background(), "s", "1", "m", json.RawMessage(`{"x":null,"x":1,"y":2}`))
	require.NoError(t, err)
	assert.JSONEq(t, `{"x":1,"y":2}`, string(res))

	_, err = app.Invoke(context.Background(), "s", "1", "m", json.RawMessage(`{"x":1,"X":null,"y":2}`))
	assert.Equal(t, []zocket.Issue{{Message: "Invalid input: expected number, received null", Path: []any{"x"}}},
		issuesOf(t, err))
}

type Audit struct {
	By string `json:"by"`
	At *point `json:"at"`
}

type embedsPointer struct {
	*Audit
	Name string `json:"name"`
}

func TestInput_MembersOfAnEmbeddedStructPointerAreFlattenedAndOptional(t *testing.T) {
	by := zocket.Method("m", func(_ *zocket.Context[canvas, zocket.NoData], in embedsPointer) (string, error) {
		if in.Audit == nil {
			return in.Name + " by nobody", nil
		}
		return in.Name + " by " + in.By, nil
	})
	app := zocket.NewApp().Register("s", zocket.NewActor[canvas]().Methods(by))
	res, err := app.Invoke(context.Background(), "s", "1", "m", json.RawMessage(`{"name":"n"}`))
	require.NoError(t, err, "the pointer may stay nil")
	assert.JSONEq(t, `"n by nobody"`, string(res))

	res, err = app.Invoke(context.Background(), "s", "1", "m", json.RawMessage(`{"name":"n","by":"me"}`))
	require.NoError(t, err)
	assert.JSONEq(t, `"n by me"`, string(res))

	_, err = app.Invoke(context.Background(), "s", "1", "m", json.RawMessage(`{"by":"me","at":{"x":1}}`))
	assert.Equal(t, []zocket.Issue{
		{Message: "Invalid input: expected number, received undefined", Path: []any{"at", "y"}},
		{Message: "Invalid input: expected string, received undefined", Path: []any{"name"}},
	}, issuesOf(t, err), "a flattened member is checked under its own name")
}

func TestInput_SelfDecodingInputMayBeAbsentOrNull(t *testing.T) {
	raw := echoApp[json.RawMessage](t)
	res, err := raw.Invoke(context.Background(), "s", "1", "m", nil)
	require.NoError(t, err)
	assert.JSONEq(t, `null`, string(res))
	res, err = raw.Invoke(context.Background(), "s", "1", "m", json.RawMessage(`null`))
	require.NoError(t, err)
	assert.JSONEq(t, `null`, string(res))
	res, err = raw.Invoke(context.Background(), "s", "1", "m", json.RawMessage(`{"any":[1]}`))
	require.NoError(t, err)
	assert.JSONEq(t, `{"any":[1]}`, string(res))

	at := echoApp[time.Time](t)
	res, err = at.Invoke(context.Background(), "s", "1", "m", nil)
	require.NoError(t, err)
	assert.JSONEq(t, `"0001-01-01T00:00:00Z"`, string(res))
	res, err = at.Invoke(context.Background(), "s", "1", "m", json.RawMessage(`"2026-01-02T03:04:05Z"`))
	require.NoError(t, err, "a time.Time input has no struct tags to validate")
	assert.JSONEq(t, `"2026-01-02T03:04:05Z"`, string(res))
}

func TestInput_TimeAndBytesMembersAreExpectedAsStrings(t *testing.T) {
	type stamped struct {
		At   time.Time `json:"at"`
		Data []byte    `json:"data"`
	}
	app := echoApp[stamped](t)
	_, err := app.Invoke(context.Background(), "s", "1", "m", json.RawMessage(`{"data":null}`))
	assert.Equal(t, []zocket.Issue{
		{Message: "Invalid input: expected string, received undefined", Path: []any{"at"}},
		{Message: "Invalid input: expected string, received null", Path: []any{"data"}},
	}, issuesOf(t, err))
}
