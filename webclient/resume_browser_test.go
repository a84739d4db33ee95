package webclient_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/internal/testsupport/browsertest"
	"github.com/zocket-go/zocket/webclient"
)

// scripted is a server the test plays frame by frame: each WebSocket the
// page opens at /ws arrives on conns.
type scripted struct {
	*page
	conns chan *websocket.Conn
	marks int // mark events sent
}

func newScripted(t *testing.T) *scripted {
	t.Helper()
	s := &scripted{conns: make(chan *websocket.Conn, 4)}
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		t.Cleanup(func() { ws.CloseNow() })
		s.conns <- ws
	})
	mux.Handle("/zocket.js", webclient.Handler())
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "<!doctype html><title>t</title>") })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s.page = &page{ws: "ws" + srv.URL[len("http"):] + "/ws", stop: func() {}}
	s.tab = browsertest.Tab(t, browsertest.Browser(t))
	require.NoError(t, chromedp.Do(s.tab, chromedp.Navigate(srv.URL+"/")))
	return s
}

// accept returns the next connection the page opened.
func (s *scripted) accept(t *testing.T) *websocket.Conn {
	t.Helper()
	select {
	case ws := <-s.conns:
		return ws
	case <-s.tab.Done():
		t.Fatal("the page opened no connection")
		return nil
	}
}

// expect reads the next frame the page sent and checks it.
func (s *scripted) expect(t *testing.T, ws *websocket.Conn, want string) {
	t.Helper()
	_, got, err := ws.Read(s.tab)
	require.NoError(t, err)
	require.JSONEq(t, want, string(got))
}

// send writes frames to the page, then an event "mark" and waits until
// the page has counted it: every frame before it has been handled.
func (s *scripted) send(t *testing.T, ws *websocket.Conn, frames ...string) {
	t.Helper()
	s.marks++
	for _, f := range append(frames, fmt.Sprintf(`{"type":"event","actor":"v","actorId":"x","event":"mark","payload":%d}`, s.marks)) {
		require.NoError(t, ws.Write(s.tab, websocket.MessageText, []byte(f)))
	}
	require.NoError(t, browsertest.Until(s.tab, fmt.Sprintf("window.marks === %d", s.marks)))
}

// states returns the values of n the page's state listener received.
func (s *scripted) states(t *testing.T) []int {
	t.Helper()
	return run[[]int](t, s.page, `return window.states;`)
}

// subscribe makes the page listen to v/x's "mark" events and state, and
// checks the subscriptions it sends on ws.
func (s *scripted) subscribe(t *testing.T) *websocket.Conn {
	t.Helper()
	run[bool](t, s.page, `
		window.c = createClient({ url, reconnectDelayMs: 0, rpcTimeout: 0 });
		window.h = window.c.v("x");
		window.marks = 0;
		window.states = [];
		window.h.on("mark", (m) => { window.marks = m; });
		window.h.state.subscribe((s) => window.states.push(s.n));
		return true;`)
	ws := s.accept(t)
	s.expect(t, ws, `{"type":"event:sub","actor":"v","actorId":"x"}`)
	s.expect(t, ws, `{"type":"state:sub","actor":"v","actorId":"x","version":0,"epoch":""}`)
	return ws
}

// probe makes the page call a method, so that the next frame read is the
// rpc when the page sent nothing before it.
func (s *scripted) probe(t *testing.T, ws *websocket.Conn) {
	t.Helper()
	run[bool](t, s.page, `window.h.probe(); return true;`)
	_, got, err := ws.Read(s.tab)
	require.NoError(t, err)
	assert.Contains(t, string(got), `"method":"probe"`, "the page sent nothing else first")
}

func vpatch(version int, epoch string) string {
	return fmt.Sprintf(`{"type":"state:patch","actor":"v","actorId":"x","patches":[{"op":"replace","path":"/n","value":%d}],"version":%d,"epoch":%q}`,
		version, version, epoch)
}

func TestClient_NeverAppliesAVersionedPatchThatDoesNotFollowTheState(t *testing.T) {
	s := newScripted(t)
	ws := s.subscribe(t)
	s.send(t, ws, `{"type":"state:snapshot","actor":"v","actorId":"x","state":{"n":5},"version":5,"epoch":"e1"}`,
		vpatch(6, "e1"), vpatch(6, "e1"), vpatch(4, "e1"), vpatch(8, "e1"), vpatch(9, "e1"))
	assert.Equal(t, []int{5, 6}, s.states(t), "duplicates ignored, nothing applied past the gap")
	s.expect(t, ws, `{"type":"state:sub","actor":"v","actorId":"x","version":6,"epoch":"e1"}`)
	s.probe(t, ws) // one resume for the gap, not one per patch

	s.send(t, ws, vpatch(7, "e1"), vpatch(8, "e1"), vpatch(9, "e1"))
	assert.Equal(t, []int{5, 6, 7, 8, 9}, s.states(t), "the patches that answer the resume apply")

	s.send(t, ws, vpatch(10, "e2"))
	s.expect(t, ws, `{"type":"state:sub","actor":"v","actorId":"x","version":9,"epoch":"e1"}`)
	s.send(t, ws, `{"type":"state:snapshot","actor":"v","actorId":"x","state":{"n":1},"version":1,"epoch":"e2"}`, vpatch(2, "e2"))
	assert.Equal(t, []int{5, 6, 7, 8, 9, 1, 2}, s.states(t), "another epoch: the snapshot that answers replaces the state")
}

func TestClient_ResumesFromTheVersionItHasAfterAReconnect(t *testing.T) {
	s := newScripted(t)
	ws := s.subscribe(t)
	s.send(t, ws, `{"type":"state:snapshot","actor":"v","actorId":"x","state":{"n":5},"version":5,"epoch":"e1"}`, vpatch(6, "e1"))
	require.NoError(t, ws.Close(websocket.StatusGoingAway, "restart"))

	ws = s.accept(t)
	s.expect(t, ws, `{"type":"event:sub","actor":"v","actorId":"x"}`)
	s.expect(t, ws, `{"type":"state:sub","actor":"v","actorId":"x","version":6,"epoch":"e1"}`)
	s.send(t, ws, vpatch(7, "e1"))
	assert.Equal(t, []int{5, 6, 7}, s.states(t), "the state is kept and patches after the resume apply")

	// A server without versions: snapshots and patches apply as before,
	// and the next reconnect subscribes plainly.
	s.send(t, ws, `{"type":"state:snapshot","actor":"v","actorId":"x","state":{"n":0}}`,
		`{"type":"state:patch","actor":"v","actorId":"x","patches":[{"op":"replace","path":"/n","value":1}]}`)
	assert.Equal(t, []int{5, 6, 7, 0, 1}, s.states(t))
	require.NoError(t, ws.Close(websocket.StatusGoingAway, "restart"))
	ws = s.accept(t)
	s.expect(t, ws, `{"type":"event:sub","actor":"v","actorId":"x"}`)
	s.expect(t, ws, `{"type":"state:sub","actor":"v","actorId":"x","version":0,"epoch":""}`)
}
