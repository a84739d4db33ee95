package natscluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Authorization is what a session may do: its namespace, and who it is.
type Authorization struct {
	Namespace
	// UserID is the authenticated user; nil when there is none.
	UserID *string
	// Claims are passed to actors (never nil after Authorize).
	Claims map[string]any
}

// Authorizer decides, once per WebSocket upgrade, whether a client may
// connect and in which namespace. An error refuses the upgrade with 401 and
// the error's text (an *AuthError carries the control plane's message).
type Authorizer interface {
	// Authorize is given the request's Host header and its ?token=
	// parameter (nil when absent).
	Authorize(ctx context.Context, host string, token *string) (Authorization, error)
}

// AuthError is a refusal, with the message for the 401 body.
type AuthError struct{ Message string }

// Error returns the refusal message.
func (e *AuthError) Error() string { return e.Message }

// ErrBadAuthorization is wrapped when a control plane answered 2xx with a
// body that cannot be used (no usable workspaceId or projectId, say).
var ErrBadAuthorization = errors.New("invalid authorization response")

// StaticAuthorizer admits every client with the same authorization: for
// development and tests.
type StaticAuthorizer Authorization

// Authorize returns the static authorization.
func (a StaticAuthorizer) Authorize(context.Context, string, *string) (Authorization, error) {
	auth := Authorization(a)
	if auth.Claims == nil {
		auth.Claims = map[string]any{}
	}
	return auth, auth.Namespace.Validate()
}

// HTTPAuthorizer calls a control plane's POST {URL}/api/registry/authorize
// with a bearer token, bounded by Timeout (default 5 s), and
// validates the answer: workspaceId and projectId must be usable subject
// tokens, userId a string or null, claims an object or null.
type HTTPAuthorizer struct {
	URL     string // control plane base URL; a trailing "/" is ignored
	Token   string // CONTROL_PLANE_INTERNAL_TOKEN
	Timeout time.Duration
	Client  *http.Client // default: http.DefaultClient
}

// Authorize asks the control plane.
func (a *HTTPAuthorizer) Authorize(ctx context.Context, host string, token *string) (Authorization, error) {
	body := struct {
		Host  string  `json:"host"`
		Token *string `json:"token"`
	}{host, token}
	status, data, err := postJSON(ctx, a.Client, a.Timeout, strings.TrimSuffix(a.URL, "/")+"/api/registry/authorize", a.Token, body)
	if err != nil {
		return Authorization{}, fmt.Errorf("control plane unreachable: %w", err)
	}
	if status < 200 || status > 299 {
		var refusal struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(data, &refusal) == nil && refusal.Error != "" {
			return Authorization{}, &AuthError{Message: refusal.Error}
		}
		return Authorization{}, &AuthError{Message: fmt.Sprintf("Control plane responded %d", status)}
	}
	var got struct {
		WorkspaceID *string        `json:"workspaceId"`
		ProjectID   *string        `json:"projectId"`
		UserID      *string        `json:"userId"`
		Claims      map[string]any `json:"claims"`
	}
	if err := json.Unmarshal(data, &got); err != nil {
		return Authorization{}, fmt.Errorf("%w: %v", ErrBadAuthorization, err)
	}
	if got.WorkspaceID == nil || got.ProjectID == nil {
		return Authorization{}, fmt.Errorf("%w: workspaceId and projectId are required", ErrBadAuthorization)
	}
	auth := Authorization{Namespace: Namespace{*got.WorkspaceID, *got.ProjectID}, UserID: got.UserID, Claims: got.Claims}
	if err := auth.Namespace.Validate(); err != nil {
		return Authorization{}, fmt.Errorf("%w: %w", ErrBadAuthorization, err)
	}
	if auth.Claims == nil {
		auth.Claims = map[string]any{}
	}
	return auth, nil
}
