package inspector_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/inspector"
)

type counter struct {
	N int `json:"n"`
}

type counterCtx = zocket.Context[counter, zocket.NoData]

// counterActor: "add" adds its input, "fail" fails.
func counterActor() *zocket.Actor[counter, zocket.NoData] {
	return zocket.NewActor[counter]().Methods(
		zocket.Method("add", func(c *counterCtx, n int) (int, error) {
			c.State.N += n
			return c.State.N, nil
		}),
		zocket.MethodNoIO("fail", func(*counterCtx) error { return errors.New("refused") }),
	)
}

const token = "s3cret"

// byToken authorizes requests whose token query parameter is token, and
// forbids those with another one.
func byToken(r *http.Request) error {
	switch r.URL.Query().Get("token") {
	case token:
		return nil
	case "":
		return errors.New("no token")
	default:
		return fmt.Errorf("wrong token: %w", inspector.ErrForbidden)
	}
}

// served is an App of counterActor ("counter") observed by rec and by
// extra, and its inspector served over HTTP on loopback at url+"/inspect/".
type served struct {
	app  *zocket.App
	rec  *inspector.Recorder
	insp *inspector.Inspector
	url  string
}

func serve(t *testing.T, extra ...zocket.Observer) *served {
	t.Helper()
	rec := inspector.NewRecorder()
	app := zocket.NewApp(zocket.WithObserver(zocket.Observers(append([]zocket.Observer{rec}, extra...)...))).
		Register("counter", counterActor())
	insp, err := inspector.New(app, inspector.Options{Authorize: byToken, Recorder: rec})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/inspect/", http.StripPrefix("/inspect", insp))
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		require.NoError(t, insp.Shutdown(context.Background()))
		srv.Close()
		require.NoError(t, app.Close(context.Background()))
	})
	return &served{app: app, rec: rec, insp: insp, url: srv.URL}
}

// get fetches path below the inspector and returns the status and body.
func (s *served) get(t *testing.T, path string) (int, string) {
	t.Helper()
	res, err := http.Get(s.url + "/inspect" + path)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(body)
}

// stats fetches stats.json as generic JSON, as the page sees it.
func (s *served) stats(t *testing.T) map[string]any {
	t.Helper()
	status, body := s.get(t, "/stats.json?token="+token)
	require.Equal(t, http.StatusOK, status, body)
	var out map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &out))
	return out
}

func (s *served) invoke(t *testing.T, id, method string, input any) error {
	t.Helper()
	raw, err := json.Marshal(input)
	require.NoError(t, err)
	if input == nil {
		raw = nil
	}
	_, err = s.app.Invoke(context.Background(), "counter", id, method, raw)
	return err
}
