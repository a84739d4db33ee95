package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"flag"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/inspector"
	"github.com/zocket-go/zocket/transport/wscore"
)

// inspectSettings are the -inspect and -inspect-token flags: with them
// the chat server mounts the inspector (package inspector) at /inspect/,
// for a browser at /inspect/?token=<token>, or a client sending
// "Authorization: Bearer <token>".
type inspectSettings struct {
	on    bool
	token string
}

// inspectFlags registers the flags; exampleserver.Main parses them.
func inspectFlags() *inspectSettings {
	s := &inspectSettings{}
	flag.BoolVar(&s.on, "inspect", false, "serve the live inspector at /inspect/ (requires -inspect-token)")
	flag.StringVar(&s.token, "inspect-token", "", "the token the inspector requires, in its URL's ?token= or as a Bearer token")
	return s
}

type serveFunc = func(ctx context.Context, ln net.Listener, log *slog.Logger) error

type inspectKey struct{}

// around returns serve with the settings in its context, where inspecting
// finds them.
func (s *inspectSettings) around(serve serveFunc) serveFunc {
	return func(ctx context.Context, ln net.Listener, log *slog.Logger) error {
		if !s.on {
			return serve(ctx, ln, log)
		}
		if s.token == "" {
			return errors.New("-inspect-token is required with -inspect")
		}
		return serve(context.WithValue(ctx, inspectKey{}, s.token), ln, log)
	}
}

// inspection is the inspector of one run of serve; its zero value, when
// the inspector is off, changes nothing.
type inspection struct {
	token string
	rec   *inspector.Recorder
	insp  *inspector.Inspector
}

// inspecting returns the inspection the context asks for.
func inspecting(ctx context.Context) *inspection {
	token, _ := ctx.Value(inspectKey{}).(string)
	if token == "" {
		return &inspection{}
	}
	return &inspection{token: token, rec: inspector.NewRecorder()}
}

// appOptions returns opts with the inspector's Recorder as the App's
// observer.
func (in *inspection) appOptions(opts ...zocket.Option) []zocket.Option {
	if in.rec != nil {
		opts = append(opts, zocket.WithObserver(in.rec))
	}
	return opts
}

// mount returns site with the inspector of app at /inspect/.
func (in *inspection) mount(app *zocket.App, site http.Handler, log *slog.Logger) (http.Handler, error) {
	if in.rec == nil {
		return site, nil
	}
	insp, err := inspector.New(app, inspector.Options{Authorize: in.authorize, Recorder: in.rec, Logger: log})
	if err != nil {
		return nil, err
	}
	in.insp = insp
	mux := http.NewServeMux()
	mux.Handle("/inspect/", http.StripPrefix("/inspect", insp))
	mux.Handle("/", site)
	log.Info("inspector: open /inspect/?token=<your -inspect-token>")
	return mux, nil
}

// authorize accepts the token from the query or a Bearer header, compared
// in constant time.
func (in *inspection) authorize(r *http.Request) error {
	got := r.URL.Query().Get("token")
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && got == "" {
		got = bearer
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(in.token)) != 1 {
		return errors.New("chat: missing or wrong inspector token")
	}
	return nil
}

// shutdown closes the inspector's sockets, when the server stops.
func (in *inspection) shutdown() {
	if in.insp == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), wscore.ShutdownTimeout)
	defer cancel()
	in.insp.Shutdown(ctx)
}
