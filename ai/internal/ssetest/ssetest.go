// Package ssetest serves recorded server-sent-event responses to the
// providers' tests: a local server that answers its n-th request with the
// n-th fixture file and records the requests' bodies.
package ssetest

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/zocket-go/zocket/ai"
)

// Server replays fixtures.
type Server struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
}

// Replay starts a server answering its requests, in order, with the files
// testdata/<name> (an event stream; a name ending in ".json" is sent as a
// JSON error response with status 400). A request beyond the list fails
// the test.
func Replay(t *testing.T, names ...string) *Server {
	t.Helper()
	s := &Server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		n := len(s.bodies)
		s.bodies = append(s.bodies, body)
		s.mu.Unlock()
		if n >= len(names) {
			t.Errorf("ssetest: unexpected request %d to %s", n+1, r.URL.Path)
			http.Error(w, "no more fixtures", http.StatusInternalServerError)
			return
		}
		data, err := os.ReadFile(filepath.Join("testdata", names[n]))
		if err != nil {
			t.Errorf("ssetest: %v", err)
			return
		}
		if filepath.Ext(names[n]) == ".json" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
		} else {
			w.Header().Set("Content-Type", "text/event-stream")
		}
		_, _ = w.Write(data)
	}))
	t.Cleanup(s.Close)
	return s
}

// Bodies returns the bodies of the requests received so far.
func (s *Server) Bodies() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.bodies...)
}

// Drain reads s to its end and closes it: the events, and the error that
// ended it (nil for io.EOF).
func Drain(s ai.Stream) ([]ai.Event, error) {
	defer s.Close()
	var evs []ai.Event
	for {
		ev, err := s.Next()
		if errors.Is(err, io.EOF) {
			return evs, nil
		}
		if err != nil {
			return evs, err
		}
		evs = append(evs, ev)
	}
}
