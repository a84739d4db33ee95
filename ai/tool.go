package ai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-playground/validator/v10"
	"github.com/invopop/jsonschema"

	"github.com/zocket-go/zocket"
)

// Tool is a function the model may call. Build it with Func or ActorTool.
type Tool struct {
	// Spec is what the model is told: the name, the description and the
	// input's JSON Schema (derived from the input type; json tags name the
	// members, members without omitempty are required, `jsonschema`
	// tags add descriptions and constraints).
	Spec ToolSpec
	run  func(ctx context.Context, env ToolEnv, v *validator.Validate, args string) (json.RawMessage, error)
}

// ToolEnv is where a tool runs: the App and the conversation (the agent
// actor's instance) that called it.
type ToolEnv struct {
	App            *zocket.App
	ConversationID string
}

// errInvalidArguments marks tool results refused before the tool ran.
var errInvalidArguments = errors.New("invalid arguments")

// Func makes a tool of a Go function. The model's arguments are decoded
// into I (unknown members are refused) and validated with its `validate`
// tags; if that fails, the function does not run and the model gets the
// error as the tool's result, so that it can correct itself. An error the
// function returns is also given to the model as the tool's result; a
// panic is recovered and given as an error. ctx is bounded by the run's
// deadline and cancelled when the run is stopped.
func Func[I, O any](name, description string, fn func(ctx context.Context, env ToolEnv, in I) (O, error)) Tool {
	return Tool{
		Spec: ToolSpec{Name: name, Description: description, Schema: schemaOf[I]()},
		run: func(ctx context.Context, env ToolEnv, v *validator.Validate, args string) (json.RawMessage, error) {
			var in I
			if err := decodeArgs(v, args, &in); err != nil {
				return nil, err
			}
			out, err := fn(ctx, env, in)
			if err != nil {
				return nil, err
			}
			return json.Marshal(out)
		},
	}
}

// ActorTool makes a tool of an actor method: the call is the typed
// actor-to-actor call m.Invoke on instance (actor, id(conversation ID)) of
// the App, from the agent's method (so it is bounded like any call the
// agent makes, and a call back into the conversation is refused as a
// cycle). id nil means the conversation's ID. The tool's name is the
// method's; its input is checked as Func says.
func ActorTool[S, C, I, O any](description string, m *zocket.MethodDef[S, C, I, O], actor string, id func(conversationID string) string) Tool {
	return Func(m.Name(), description, func(ctx context.Context, env ToolEnv, in I) (O, error) {
		target := env.ConversationID
		if id != nil {
			target = id(env.ConversationID)
		}
		return m.Invoke(ctx, env.App, actor, target, in)
	})
}

// decodeArgs decodes and validates a model's tool arguments into dst.
func decodeArgs(v *validator.Validate, args string, dst any) error {
	if args == "" {
		args = "{}" // a call of a tool without parameters may come with no arguments
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(args)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("%w: %v", errInvalidArguments, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: trailing data after the JSON object", errInvalidArguments)
	}
	if err := v.Struct(dst); err != nil {
		var inv *validator.InvalidValidationError
		if !errors.As(err, &inv) { // not a struct: nothing to validate
			return fmt.Errorf("%w: %v", errInvalidArguments, err)
		}
	}
	return nil
}

// schemaOf is the JSON Schema of T, inlined (no $ref, no $schema).
func schemaOf[T any]() json.RawMessage {
	r := jsonschema.Reflector{DoNotReference: true, ExpandedStruct: true}
	s := r.Reflect(new(T))
	s.Version, s.ID = "", ""
	b, err := json.Marshal(s)
	if err != nil {
		return json.RawMessage(`{"type":"object"}`)
	}
	return b
}
