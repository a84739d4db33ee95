package wscore_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/transport/wscore"
)

func request(origin string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://app.example/ws", nil)
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	return r
}

func TestAdmit_AllowsNoOriginTheSameOriginAndMatchingPatterns(t *testing.T) {
	o := wscore.Options{OriginPatterns: []string{"*.trusted.example"}}.WithDefaults()
	for _, origin := range []string{"", "https://app.example", "https://APP.example", "https://a.trusted.example"} {
		_, status, err := o.Admit(request(origin))
		assert.NoError(t, err, origin)
		assert.Zero(t, status, origin)
	}
}

func TestAdmit_RefusesOtherOriginsWith403AndALogNamingTheOption(t *testing.T) {
	logs := &records{}
	o := wscore.Options{Logger: slog.New(logs)}.WithDefaults()
	_, status, err := o.Admit(request("https://evil.example"))
	require.ErrorIs(t, err, wscore.ErrOriginRefused)
	assert.Equal(t, http.StatusForbidden, status)
	require.Len(t, logs.all, 1)
	assert.Equal(t, slog.LevelWarn, logs.all[0].Level)
	assert.Contains(t, logs.all[0].Message, "OriginPatterns")
}

func TestAdmit_RefusesBeforeAuthenticateRuns(t *testing.T) {
	called := false
	o := wscore.Options{Authenticate: func(*http.Request) (zocket.Identity, error) {
		called = true
		return zocket.Identity{}, nil
	}}.WithDefaults()
	_, _, err := o.Admit(request("https://evil.example"))
	require.Error(t, err)
	assert.False(t, called)
}

func TestAdmit_AnswersAuthenticateErrorsWithTheirStatusOr401(t *testing.T) {
	for want, authErr := range map[int]error{
		http.StatusForbidden:    &wscore.HTTPError{Status: http.StatusForbidden, Message: "banned"},
		http.StatusUnauthorized: errors.New("no token"),
	} {
		o := wscore.Options{Authenticate: func(*http.Request) (zocket.Identity, error) { return zocket.Identity{}, authErr }}.WithDefaults()
		_, status, err := o.Admit(request(""))
		assert.ErrorIs(t, err, authErr)
		assert.Equal(t, want, status)
	}
}

func TestAdmit_ReturnsTheAuthenticatedIdentity(t *testing.T) {
	o := wscore.Options{Authenticate: func(*http.Request) (zocket.Identity, error) { return zocket.Identity{UserID: "u1"}, nil }}.WithDefaults()
	id, _, err := o.Admit(request(""))
	require.NoError(t, err)
	assert.Equal(t, "u1", id.UserID)
}

// records is a slog.Handler that keeps every record.
type records struct{ all []slog.Record }

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *records) WithGroup(string) slog.Handler            { return r }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.all = append(r.all, rec)
	return nil
}
