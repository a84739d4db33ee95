package zocket_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

type regState struct {
	N int `json:"n"`
}

type regCtx = zocket.Context[regState, zocket.NoData]

func TestRegister_RejectsMisspelledValidateTag(t *testing.T) {
	type in struct {
		Name string `json:"name" validate:"requried"`
	}
	m := zocket.MethodNoResult("rename", func(*regCtx, in) error { return nil })
	err := zocket.NewApp().TryRegister("profile", zocket.NewActor[regState]().Methods(m))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `actor "profile"`)
	assert.Contains(t, err.Error(), `method "rename"`)
	assert.Contains(t, err.Error(), "requried")
	assert.Contains(t, err.Error(), "Name")
}

func TestRegister_RejectsMisspelledValidateTagInNestedListElements(t *testing.T) {
	type item struct {
		Text string `json:"text" validate:"mxa=3"`
	}
	type in struct {
		Items []item `json:"items" validate:"dive"`
	}
	m := zocket.MethodNoResult("add", func(*regCtx, in) error { return nil })
	err := zocket.NewApp().TryRegister("list", zocket.NewActor[regState]().Methods(m))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "mxa")
}

func TestRegister_RejectsMisspelledValidateTagOnEventPayload(t *testing.T) {
	type payload struct {
		Text string `json:"text" validate:"requird"`
	}
	ev := zocket.Event[payload]("said")
	err := zocket.NewApp().TryRegister("room", zocket.NewActor[regState]().Events(ev))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `event "said"`)
	assert.Contains(t, err.Error(), "requird")
}

func TestRegister_PanicsWithTheTagErrorToo(t *testing.T) {
	type in struct {
		N int `json:"n" validate:"requried"`
	}
	m := zocket.MethodNoResult("set", func(*regCtx, in) error { return nil })
	assert.PanicsWithError(t, `zocket: actor "a": method "set": input: type zocket_test.in: invalid validate tag: `+
		`Undefined validation function 'requried' on field 'N'`, func() {
		zocket.NewApp().Register("a", zocket.NewActor[regState]().Methods(m))
	})
}

func TestRegister_RejectsDuplicateEventNames(t *testing.T) {
	a := zocket.Event[string]("changed")
	b := zocket.Event[int]("changed")
	err := zocket.NewApp().TryRegister("doc", zocket.NewActor[regState]().Events(a, b))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `event "changed" declared twice`)
}

func TestRegister_RejectsNilDefinitionWithAClearError(t *testing.T) {
	err := zocket.NewApp().TryRegister("x", nil)
	assert.EqualError(t, err, `zocket: actor "x": definition is nil`)

	var typed *zocket.Actor[regState, zocket.NoData]
	err = zocket.NewApp().TryRegister("x", typed)
	assert.EqualError(t, err, `zocket: actor "x": definition is nil`)

	assert.PanicsWithError(t, `zocket: actor "x": definition is nil`, func() { zocket.NewApp().Register("x", nil) })
}

func TestRegister_RejectsNilMethodsAndHandlers(t *testing.T) {
	var none *zocket.MethodDef[regState, zocket.NoData, zocket.None, zocket.None]
	err := zocket.NewApp().TryRegister("x", zocket.NewActor[regState]().Methods(none))
	assert.ErrorContains(t, err, "method 0 of Methods is nil")

	nilFn := zocket.MethodNoIO[regState, zocket.NoData]("m", nil)
	err = zocket.NewApp().TryRegister("x", zocket.NewActor[regState]().Methods(nilFn))
	assert.ErrorContains(t, err, `method "m": handler is nil`)
}

func TestRegister_RejectsUnexportedStateFieldsHoldingReferences(t *testing.T) {
	type withMap struct {
		N     int `json:"n"`
		cache map[string]int
	}
	err := zocket.NewApp().TryRegister("x", zocket.NewActor[withMap]())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "withMap.cache is unexported and holds references")

	type inner struct{ seen []string }
	type nested struct {
		Items []inner `json:"items"`
	}
	err = zocket.NewApp().TryRegister("y", zocket.NewActor[nested]())
	assert.ErrorContains(t, err, "inner.seen is unexported")
}

func TestRegister_AcceptsUnexportedValueFieldsAndSelfEncodingTypes(t *testing.T) {
	type fine struct {
		At      time.Time      `json:"at"`
		Private map[string]int `json:"-"`
		count   int
		label   string
		pair    [2]int
		seen    time.Time // a value, though it points to an immutable *time.Location
	}
	require.NoError(t, zocket.NewApp().TryRegister("x", zocket.NewActor[fine]()))
}

// A failed call leaves no trace even in a field the client never sees.
func TestFailedCall_UndoesChangesToHiddenExportedMaps(t *testing.T) {
	type hidden struct {
		Seen map[string]int `json:"-"`
	}
	mark := zocket.MethodNoIO("mark", func(c *zocket.Context[hidden, zocket.NoData]) error {
		if c.State.Seen == nil {
			c.State.Seen = map[string]int{}
		}
		c.State.Seen["x"]++
		return assert.AnError
	})
	count := zocket.MethodNoInput("count", func(c *zocket.Context[hidden, zocket.NoData]) (int, error) {
		return len(c.State.Seen), nil
	})
	app := zocket.NewApp().Register("h", zocket.NewActor[hidden]().
		Initial(func() hidden { return hidden{Seen: map[string]int{}} }).Methods(mark, count))
	ctx := context.Background()
	_, err := mark.Invoke(ctx, app, "h", "1", zocket.None{})
	require.Error(t, err)
	n, err := count.Invoke(ctx, app, "h", "1", zocket.None{})
	require.NoError(t, err)
	assert.Zero(t, n)
}
