package webclient_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/zocket-go/zocket/webclient"
)

func TestHandler_ServesTheModuleAndItsTypes(t *testing.T) {
	for path, ctype := range map[string]string{
		"/zocket.js":   "text/javascript; charset=utf-8",
		"/zocket.d.ts": "text/plain; charset=utf-8",
	} {
		rec := httptest.NewRecorder()
		webclient.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		assert.Equal(t, http.StatusOK, rec.Code, path)
		assert.Equal(t, ctype, rec.Header().Get("Content-Type"), path)
		assert.Contains(t, rec.Body.String(), "createClient", path)
	}
}

func TestHandler_RefusesOtherPaths(t *testing.T) {
	for _, path := range []string{"/", "/webclient.go", "/zocket.jsx"} {
		rec := httptest.NewRecorder()
		webclient.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		assert.Equal(t, http.StatusNotFound, rec.Code, path)
	}
}
