package zocket_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

type point struct {
	X int `json:"x"`
	Y int `json:"y"`
}

type drawInput struct {
	Color  string   `json:"color"`
	Points []point  `json:"points"`
	Label  *string  `json:"label"`
	Note   string   `json:"note,omitempty"`
	Width  int      `json:"width"` // defaulted by SetDefaults
	Tags   []string `json:"tags,omitzero"`
	Extra  any      `json:"extra"`
}

func (d *drawInput) SetDefaults() { d.Width = 1 }

type canvas struct {
	Strokes int `json:"strokes"`
}

func drawApp(t *testing.T, gate *atomic.Int32) *zocket.App {
	t.Helper()
	chain := zocket.Use(func(context.Context, zocket.Request[zocket.NoData]) (zocket.NoData, error) {
		gate.Add(1)
		return zocket.NoData{}, nil
	})
	draw := zocket.Method("draw", func(c *zocket.Context[canvas, zocket.NoData], in drawInput) (int, error) {
		c.State.Strokes++
		return in.Width, nil
	})
	return zocket.NewApp().Register("canvas", zocket.NewActorWith[canvas](chain).Methods(draw))
}

func issuesOf(t *testing.T, err error) []zocket.Issue {
	t.Helper()
	var ve *zocket.ValidationError
	require.True(t, errors.As(err, &ve), "want a ValidationError, got %v", err)
	return ve.Issues
}

func TestInput_AbsentMemberIsRejectedBeforeMiddleware(t *testing.T) {
	var gate atomic.Int32
	app := drawApp(t, &gate)
	_, err := app.Invoke(context.Background(), "canvas", "c", "draw", json.RawMessage(`{}`))
	assert.Equal(t, []zocket.Issue{
		{Message: "Invalid input: expected string, received undefined", Path: []any{"color"}},
		{Message: "Invalid input: expected array, received undefined", Path: []any{"points"}},
	}, issuesOf(t, err))
	assert.EqualError(t, err, `Validation failed for draw: [`+
		`{"message":"Invalid input: expected string, received undefined","path":["color"]},`+
		`{"message":"Invalid input: expected array, received undefined","path":["points"]}]`)
	assert.Zero(t, gate.Load(), "middleware must not run for invalid input")
}

func TestInput_PointersOmitemptyOmitzeroInterfacesAndDefaultsAreOptional(t *testing.T) {
	var gate atomic.Int32
	app := drawApp(t, &gate)
	res, err := app.Invoke(context.Background(), "canvas", "c", "draw", json.RawMessage(`{"color":"red","points":[]}`))
	require.NoError(t, err)
	assert.JSONEq(t, `1`, string(res), "the default applies")
	assert.Equal(t, int32(1), gate.Load())
}

func TestInput_NullForARequiredMemberIsRejected(t *testing.T) {
	app := drawApp(t, new(atomic.Int32))
	_, err := app.Invoke(context.Background(), "canvas", "c", "draw", json.RawMessage(`{"color":null,"points":[]}`))
	assert.Equal(t, []zocket.Issue{{Message: "Invalid input: expected string, received null", Path: []any{"color"}}},
		issuesOf(t, err))
}

func TestInput_AbsentMembersOfListElementsAreReportedWithTheirPath(t *testing.T) {
	app := drawApp(t, new(atomic.Int32))
	_, err := app.Invoke(context.Background(), "canvas", "c", "draw",
		json.RawMessage(`{"color":"red","points":[{"x":1,"y":2},{"x":3}]}`))
	assert.Equal(t, []zocket.Issue{{Message: "Invalid input: expected number, received undefined",
		Path: []any{"points", 1, "y"}}}, issuesOf(t, err))
}

func TestInput_AbsentMemberIsReportedOnceEvenWithValidateTags(t *testing.T) {
	type in struct {
		Text string `json:"text" validate:"required,max=5"`
	}
	say := zocket.Method("say", func(_ *zocket.Context[canvas, zocket.NoData], in in) (string, error) {
		return in.Text, nil
	})
	app := zocket.NewApp().Register("s", zocket.NewActor[canvas]().Methods(say))
	_, err := app.Invoke(context.Background(), "s", "1", "say", json.RawMessage(`{}`))
	assert.Equal(t, []zocket.Issue{{Message: "Invalid input: expected string, received undefined",
		Path: []any{"text"}}}, issuesOf(t, err))

	_, err = app.Invoke(context.Background(), "s", "1", "say", json.RawMessage(`{"text":""}`))
	assert.Equal(t, []zocket.Issue{{Message: "Required", Path: []any{"text"}}}, issuesOf(t, err),
		"validate:\"required\" still means non-zero")
}

func TestInput_MembersMatchKeysLikeEncodingJSONAndEmbeddedStructsAreFlattened(t *testing.T) {
	type base struct {
		ID string `json:"id"`
	}
	type in struct {
		base
		Name string `json:"name"`
	}
	get := zocket.Method("get", func(_ *zocket.Context[canvas, zocket.NoData], in in) (string, error) {
		return in.ID + in.Name, nil
	})
	app := zocket.NewApp().Register("s", zocket.NewActor[canvas]().Methods(get))
	res, err := app.Invoke(context.Background(), "s", "1", "get", json.RawMessage(`{"id":"a","NAME":"b"}`))
	require.NoError(t, err)
	assert.JSONEq(t, `"ab"`, string(res))

	_, err = app.Invoke(context.Background(), "s", "1", "get", json.RawMessage(`{"name":"b"}`))
	assert.Equal(t, []zocket.Issue{{Message: "Invalid input: expected string, received undefined",
		Path: []any{"id"}}}, issuesOf(t, err))
}

func TestInput_AbsentMembersInsideMapValuesAndPointedStructsAreReported(t *testing.T) {
	type in struct {
		ByName map[string]point `json:"byName"`
		Origin *point           `json:"origin"`
	}
	put := zocket.MethodNoResult("put", func(*zocket.Context[canvas, zocket.NoData], in) error { return nil })
	app := zocket.NewApp().Register("s", zocket.NewActor[canvas]().Methods(put))
	_, err := app.Invoke(context.Background(), "s", "1", "put",
		json.RawMessage(`{"byName":{"a\"b":{"x":1}, "ok":{"x":1,"y":2}},"origin":{"y":0}}`))
	assert.Equal(t, []zocket.Issue{
		{Message: "Invalid input: expected number, received undefined", Path: []any{"byName", `a"b`, "y"}},
		{Message: "Invalid input: expected number, received undefined", Path: []any{"origin", "x"}},
	}, issuesOf(t, err))

	_, err = app.Invoke(context.Background(), "s", "1", "put", json.RawMessage(`{"byName":{}}`))
	require.NoError(t, err, "a pointer member may be left out")
}

func TestInput_AbsentScalarInputIsRejectedUnlessItIsAPointer(t *testing.T) {
	echo := zocket.Method("echo", func(_ *zocket.Context[canvas, zocket.NoData], in string) (string, error) {
		return in, nil
	})
	maybe := zocket.Method("maybe", func(_ *zocket.Context[canvas, zocket.NoData], in *string) (bool, error) {
		return in == nil, nil
	})
	app := zocket.NewApp().Register("s", zocket.NewActor[canvas]().Methods(echo, maybe))
	ctx := context.Background()
	_, err := app.Invoke(ctx, "s", "1", "echo", nil)
	assert.Equal(t, []zocket.Issue{{Message: "Invalid input: expected string, received undefined", Path: []any{}}},
		issuesOf(t, err))
	_, err = app.Invoke(ctx, "s", "1", "echo", json.RawMessage(`null`))
	assert.Equal(t, []zocket.Issue{{Message: "Invalid input: expected string, received null", Path: []any{}}},
		issuesOf(t, err))
	res, err := app.Invoke(ctx, "s", "1", "maybe", nil)
	require.NoError(t, err)
	assert.JSONEq(t, `true`, string(res))
}
