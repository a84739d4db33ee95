package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/internal/testsupport/wstest"
)

// inspectGet fetches path of the server at the ws:// url with the
// Authorization header auth ("" for none).
func inspectGet(t *testing.T, url, path, auth string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http"+strings.TrimPrefix(url, "ws")+path, nil)
	require.NoError(t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, body
}

func TestInspect_TheFlagRequiresAToken(t *testing.T) {
	err := (&inspectSettings{on: true}).around(serve)(context.Background(), nil, nil)
	require.EqualError(t, err, "-inspect-token is required with -inspect")
}

func TestInspect_MountsTheInspectorAtInspectBehindTheToken(t *testing.T) {
	url := wstest.Serve(t, (&inspectSettings{on: true, token: "tok"}).around(serve))
	alice := wstest.DialWelcome(t, url)
	alice.Call("chat", "general", "sendMessage", map[string]any{"from": "Alice", "text": "Hello!"})

	for _, auth := range []string{"", "Bearer nope"} {
		status, _ := inspectGet(t, url, "/inspect/stats.json", auth)
		assert.Equal(t, http.StatusUnauthorized, status, "authorization %q", auth)
	}
	status, _ := inspectGet(t, url, "/inspect/stats.json?token=nope", "")
	assert.Equal(t, http.StatusUnauthorized, status)

	for _, req := range []struct{ path, auth string }{{"/inspect/stats.json?token=tok", ""}, {"/inspect/stats.json", "Bearer tok"}} {
		status, body := inspectGet(t, url, req.path, req.auth)
		require.Equal(t, http.StatusOK, status, req)
		var stats struct {
			Instances []struct {
				Actor, ID string
				LastCall  struct{ Method string }
			}
		}
		require.NoError(t, json.Unmarshal(body, &stats))
		require.Len(t, stats.Instances, 1)
		assert.Equal(t, []string{"chat", "general", "sendMessage"},
			[]string{stats.Instances[0].Actor, stats.Instances[0].ID, stats.Instances[0].LastCall.Method})
	}
}

func TestInspect_IsOffByDefault(t *testing.T) {
	url := wstest.Serve(t, serve)
	status, _ := inspectGet(t, url, "/inspect/stats.json?token=", "")
	assert.Equal(t, http.StatusNotFound, status)
}
