package zocket

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/go-playground/validator/v10"
)

// Defaulter is implemented by input types that have defaults. SetDefaults is
// called on a fresh value before the client's input is decoded over it, so
// members the client leaves out keep their defaults (the counterpart of a
// zod .default()).
type Defaulter interface {
	SetDefaults()
}

// Issue is one reason an input was rejected, in the shape clients expect
// in a validation error: a message and the path of JSON keys (strings) and indices (ints).
type Issue struct {
	Message string `json:"message"`
	Path    []any  `json:"path"`
}

// ValidationError rejects a call's input. Its Error text is
// "Validation failed for <method>: <issues as a JSON array>".
type ValidationError struct {
	Method string
	Issues []Issue
}

// Error is "Validation failed for <method>: <issues as JSON>".
func (e *ValidationError) Error() string {
	b, _ := json.Marshal(e.Issues)
	return "Validation failed for " + e.Method + ": " + string(b)
}

// Unwrap returns ErrValidation.
func (e *ValidationError) Unwrap() error { return ErrValidation }

// newValidator builds the App's validator: one instance, reporting JSON
// field names.
func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			return ""
		case "":
			return f.Name
		}
		return name
	})
	return v
}

// decodeInput decodes and validates the raw input of a method whose input
// type is I, which requires the members of sh. Absent input (or null) is an
// error, as an object schema rejects undefined, unless I can say "absent"
// itself: a pointer, an interface or a type that decodes itself (given
// null to decode, as encoding/json does).
func decodeInput[I any](v *validator.Validate, method string, sh *shape, raw json.RawMessage) (I, error) {
	var in I
	if d, ok := any(&in).(Defaulter); ok {
		d.SetDefaults()
	}
	t := reflect.TypeFor[I]()
	self := decodesItself(t)
	if raw == nil || !self && bytes.Equal(raw, []byte("null")) {
		if t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface && !self {
			got := "undefined"
			if raw != nil {
				got = "null"
			}
			return in, &ValidationError{Method: method, Issues: []Issue{{
				Message: "Invalid input: expected " + expectedKind(t) + ", received " + got, Path: []any{}}}}
		}
	} else {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&in); err != nil {
			return in, &ValidationError{Method: method, Issues: []Issue{decodeIssue(err)}}
		}
	}
	var issues []Issue
	if sh != nil && raw != nil {
		issues = sh.missing(raw, nil, nil)
	}
	for _, is := range validateValue(v, in) {
		if !underAny(is.Path, issues) { // an absent member is reported once
			issues = append(issues, is)
		}
	}
	if issues != nil {
		return in, &ValidationError{Method: method, Issues: issues}
	}
	return in, nil
}

// underAny reports whether path is at or under the path of one of issues.
func underAny(path []any, issues []Issue) bool {
	for _, is := range issues {
		if len(path) >= len(is.Path) && slices.Equal(path[:len(is.Path)], is.Path) {
			return true
		}
	}
	return false
}

func decodeIssue(err error) Issue {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		path := []any{}
		if te.Field != "" {
			for _, p := range strings.Split(te.Field, ".") {
				path = append(path, pathElem(p))
			}
		}
		return Issue{Message: "Invalid input: expected " + jsonKind(te.Type) + ", received " + te.Value, Path: path}
	}
	return Issue{Message: "Invalid input: " + strings.TrimPrefix(err.Error(), "json: "), Path: []any{}}
}

func pathElem(p string) any {
	if i, err := strconv.Atoi(p); err == nil {
		return i
	}
	return p
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	}
	return "object"
}

// validateValue runs struct-tag validation on structs and pointers to
// structs; other input types have nothing to validate.
func validateValue(v *validator.Validate, in any) []Issue {
	rv := reflect.ValueOf(in)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return nil
	}
	err := v.Struct(in)
	if err == nil {
		return nil
	}
	var invalid *validator.InvalidValidationError
	if errors.As(err, &invalid) {
		return nil // a struct the validator takes as a value, such as time.Time
	}
	var fes validator.ValidationErrors
	if !errors.As(err, &fes) {
		return []Issue{{Message: err.Error(), Path: []any{}}}
	}
	issues := make([]Issue, 0, len(fes))
	for _, fe := range fes {
		issues = append(issues, Issue{Message: fieldMessage(fe), Path: fieldPath(fe.Namespace())})
	}
	return issues
}

// fieldPath turns "Input.items[2].text" into ["items", 2, "text"].
func fieldPath(ns string) []any {
	parts := strings.Split(ns, ".")
	path := []any{}
	for _, p := range parts[1:] {
		for {
			open := strings.IndexByte(p, '[')
			if open < 0 {
				if p != "" {
					path = append(path, p)
				}
				break
			}
			if open > 0 {
				path = append(path, p[:open])
			}
			end := strings.IndexByte(p, ']')
			if end < open {
				break
			}
			path = append(path, pathElem(p[open+1:end]))
			p = p[end+1:]
		}
	}
	return path
}

func fieldMessage(fe validator.FieldError) string {
	param := fe.Param()
	unit := ""
	switch fe.Kind() {
	case reflect.String:
		unit = " characters"
	case reflect.Slice, reflect.Array, reflect.Map:
		unit = " items"
	}
	switch fe.Tag() {
	case "required":
		return "Required"
	case "min", "gte":
		return "Too small: expected at least " + param + unit
	case "max", "lte":
		return "Too big: expected at most " + param + unit
	case "gt":
		return "Too small: expected more than " + param + unit
	case "lt":
		return "Too big: expected less than " + param + unit
	case "len":
		return "Invalid length: expected " + param + unit
	case "oneof":
		return "Invalid option: expected one of " + param
	case "email", "url", "uuid":
		return "Invalid " + fe.Tag()
	}
	if param != "" {
		return fmt.Sprintf("Invalid input: failed %q (%s)", fe.Tag(), param)
	}
	return fmt.Sprintf("Invalid input: failed %q", fe.Tag())
}
