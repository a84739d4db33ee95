package natscluster_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/internal/testsupport/wstest"
	"github.com/zocket-go/zocket/transport/natscluster"
)

// controlPlane serves /api/registry/authorize with answer, recording
// what it was asked.
func controlPlane(t *testing.T, answer func(w http.ResponseWriter, host string, token *string)) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "/api/registry/authorize", r.URL.Path)
		assert.Equal(t, http.MethodPost, r.Method)
		assert.Equal(t, "Bearer secret", r.Header.Get("Authorization"))
		var body struct {
			Host  string  `json:"host"`
			Token *string `json:"token"`
		}
		require.NoError(t, json.NewDecoder(r.Body).Decode(&body))
		answer(w, body.Host, body.Token)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/" // a trailing slash is ignored
}

func TestHTTPAuthorizer(t *testing.T) {
	cases := []struct {
		name   string
		answer func(w http.ResponseWriter, host string, token *string)
		status int
		body   string
	}{
		{"refuses with a message", func(w http.ResponseWriter, _ string, _ *string) {
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"error":"Project suspended"}`)
		}, http.StatusUnauthorized, "Project suspended"},
		{"refuses without a message", func(w http.ResponseWriter, _ string, _ *string) {
			w.WriteHeader(http.StatusBadGateway)
		}, http.StatusUnauthorized, "Control plane responded 502"},
		{"times out", func(w http.ResponseWriter, _ string, _ *string) {
			time.Sleep(500 * time.Millisecond)
		}, http.StatusUnauthorized, "control plane unreachable"},
		{"answers garbage", func(w http.ResponseWriter, _ string, _ *string) {
			io.WriteString(w, `<html>oops</html>`)
		}, http.StatusUnauthorized, "invalid authorization response"},
		{"leaves out the project", func(w http.ResponseWriter, _ string, _ *string) {
			io.WriteString(w, `{"workspaceId":"ws-1"}`)
		}, http.StatusUnauthorized, "workspaceId and projectId are required"},
		{"names an unroutable workspace", func(w http.ResponseWriter, _ string, _ *string) {
			io.WriteString(w, `{"workspaceId":"ws.1","projectId":"prj-1"}`)
		}, http.StatusUnauthorized, "invalid subject token"},
	}
	c := &cluster{t: t}
	c.srv = startNATS(t)
	c.url = c.srv.ClientURL()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			auth := &natscluster.HTTPAuthorizer{URL: controlPlane(t, tc.answer), Token: "secret", Timeout: 200 * time.Millisecond}
			_, url := startGateway(t, c.url, auth)
			_, resp, err := websocket.Dial(t.Context(), url+"/?token=abc", nil)
			require.Error(t, err)
			require.NotNil(t, resp)
			assert.Equal(t, tc.status, resp.StatusCode)
			b, _ := io.ReadAll(resp.Body)
			assert.Contains(t, string(b), tc.body)
		})
	}
}

// A good answer sets the session's scope, user and claims; the control
// plane sees the Host header and the token (null when absent).
func TestHTTPAuthorizerAdmits(t *testing.T) {
	asked := make(chan *string, 2)
	cp := controlPlane(t, func(w http.ResponseWriter, host string, token *string) {
		assert.True(t, strings.HasPrefix(host, "127.0.0.1:"), host)
		asked <- token
		io.WriteString(w, `{"workspaceId":"ws-1","projectId":"prj-1","userId":null,"claims":{"plan":"pro"}}`)
	})
	c := startCluster(t, &natscluster.HTTPAuthorizer{URL: cp, Token: "secret"})
	w := wstest.DialWelcome(t, c.wsURL+"/?token=t0k")
	assert.Equal(t, "t0k", *<-asked)
	who := w.MustCall("room", "r", "whoAmI", nil).(map[string]any)
	assert.Equal(t, "", who["userId"])
	assert.Equal(t, map[string]any{"plan": "pro"}, who["claims"])
	wstest.DialWelcome(t, c.wsURL)
	assert.Nil(t, <-asked)

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err := (&natscluster.HTTPAuthorizer{URL: "http://127.0.0.1:1", Token: "x"}).Authorize(ctx, "h", nil)
	assert.ErrorContains(t, err, "control plane unreachable")
}
