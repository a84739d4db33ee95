// Package inspector serves a live view of a zocket App for its operators:
// the live instances (subscribers, connections, mailbox depth, version,
// last call), each method's call count, errors and latency, and the state
// of one chosen instance, kept current through zocket itself.
//
// Build the Recorder first, since the App takes its observer when it is
// made, then the App, then the Inspector, and mount it under a path of
// your own (see the example):
//
//	rec := inspector.NewRecorder()
//	app := zocket.NewApp(zocket.WithObserver(rec))
//	insp, err := inspector.New(app, inspector.Options{Authorize: checkOperator, Recorder: rec})
//	mux.Handle("/inspect/", http.StripPrefix("/inspect", insp))
//
// The Inspector answers, below where it is mounted:
//
//	/             the page (one HTML file, no external resources)
//	/stats.json   a Snapshot, which the page polls every second
//	/zocket.js    the browser client (package webclient)
//	/socket       a WebSocket to the App (transport/wshttp)
//
// Every request, the WebSocket upgrade included, must first pass
// Options.Authorize and nothing else: the socket is the inspector's own,
// so the page works even when the App's socket requires an app-level
// identity. The page forwards its own query string to every request it
// makes, so a token in the page's URL reaches them all; cookies work as
// well. The socket is a full connection to the App: the page only
// subscribes to the chosen instance's state (which activates it, if it
// was not live), but an authorized client may call methods like any
// other, as Options.Identity.
package inspector

import (
	"cmp"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/transport/wshttp"
	"github.com/zocket-go/zocket/webclient"
)

// DefaultMaxInstances is how many instances a Snapshot lists by default.
const DefaultMaxInstances = 1000

// Options configure an Inspector.
type Options struct {
	// Authorize decides whether a request may see the inspector; it is
	// required. An error refuses the request with 401 Unauthorized, or
	// 403 Forbidden when it wraps ErrForbidden, and a body with nothing
	// but the status text; the error itself is only logged.
	Authorize func(r *http.Request) error
	// Recorder supplies the last calls and method statistics; it must be
	// the App's observer (or one of them, see zocket.Observers). Without
	// it the inspector shows the instances and states only.
	Recorder *Recorder
	// Identity is the identity of the inspector's socket connections, as
	// the App's middleware and OnSubscribe hooks see it (default:
	// anonymous).
	Identity zocket.Identity
	// OriginPatterns lists the host patterns of other origins whose pages
	// may open the inspector's socket (see wscore.Options); empty means
	// the page's own origin only, which is what the inspector's page
	// needs unless a proxy changes the Host header.
	OriginPatterns []string
	// MaxInstances bounds how many instances a Snapshot lists, the first
	// ones by actor then id (default DefaultMaxInstances).
	MaxInstances int
	// Logger receives refusals (info) and the socket's logs (default:
	// discard).
	Logger *slog.Logger
}

// Errors of New and for Authorize.
var (
	// ErrNoAuthorize: Options.Authorize is nil. The inspector shows
	// every instance's state and lets its users call methods: there is no
	// default open access.
	ErrNoAuthorize = errors.New("inspector: Options.Authorize is required")
	// ErrForbidden, wrapped by an error of Authorize, refuses the
	// request with 403 instead of 401.
	ErrForbidden = errors.New("inspector: forbidden")
)

//go:embed page.html
var page []byte

// Inspector is the http.Handler of the inspector of one App.
type Inspector struct {
	app       *zocket.App
	rec       *Recorder
	authorize func(*http.Request) error
	max       int
	log       *slog.Logger
	socket    *wshttp.Server
	routes    *http.ServeMux
}

// New returns the inspector of app, or an error wrapping ErrNoAuthorize
// when opts.Authorize is nil.
func New(app *zocket.App, opts Options) (*Inspector, error) {
	if opts.Authorize == nil {
		return nil, ErrNoAuthorize
	}
	if opts.MaxInstances < 0 {
		return nil, fmt.Errorf("inspector: MaxInstances is %d; it must be positive, or zero for the default", opts.MaxInstances)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	identity := opts.Identity
	socket, err := wshttp.New(zocket.NewHandler(app), wshttp.Options{
		Logger: log, OriginPatterns: opts.OriginPatterns,
		// ServeHTTP has authorized the request already.
		Authenticate: func(*http.Request) (zocket.Identity, error) { return identity, nil },
	})
	if err != nil {
		return nil, fmt.Errorf("inspector: %w", err)
	}
	i := &Inspector{
		app: app, rec: opts.Recorder, authorize: opts.Authorize,
		max: cmp.Or(opts.MaxInstances, DefaultMaxInstances), log: log, socket: socket,
		routes: http.NewServeMux(),
	}
	i.routes.HandleFunc("GET /{$}", i.servePage)
	i.routes.HandleFunc("GET /stats.json", i.serveStats)
	i.routes.Handle("GET /zocket.js", webclient.Handler())
	i.routes.Handle("GET /socket", socket)
	return i, nil
}

// ServeHTTP authorizes the request, then serves the page, the snapshot,
// the client script or the socket. Paths are relative to where the
// Inspector is mounted: strip the mount point (http.StripPrefix).
func (i *Inspector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := i.authorize(r); err != nil {
		status := http.StatusUnauthorized
		if errors.Is(err, ErrForbidden) {
			status = http.StatusForbidden
		}
		i.log.Info("inspector: request refused", "path", r.URL.Path, "remote", r.RemoteAddr, "status", status, "err", err)
		http.Error(w, http.StatusText(status), status)
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer") // the page's URL may hold a token
	i.routes.ServeHTTP(w, r)
}

// Shutdown closes the inspector's socket connections and refuses new
// ones, as wshttp.Server.Shutdown does. Call it when the HTTP server
// serving the Inspector stops.
func (i *Inspector) Shutdown(ctx context.Context) error { return i.socket.Shutdown(ctx) }

func (i *Inspector) servePage(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self' 'unsafe-inline'; "+
		"style-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'")
	w.Write(page)
}

func (i *Inspector) serveStats(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(i.Snapshot()); err != nil {
		i.log.Debug("inspector: snapshot not sent", "err", err)
	}
}
