package wsepoll

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/gobwas/ws"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/transport/wscore"
)

// ListenAndServe serves app on addr (e.g. "127.0.0.1:3000") from a raw
// listener until ctx ends, as Serve does.
func ListenAndServe(ctx context.Context, addr string, app *zocket.App, opts Options) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return Serve(ctx, ln, app, opts)
}

// Serve serves app on ln, which it closes, until ctx ends: see
// Server.Serve. It does not close app, which belongs to the caller: close
// it afterwards to run onDeactivate.
func Serve(ctx context.Context, ln net.Listener, app *zocket.App, opts Options) error {
	s, err := New(zocket.NewHandler(app), opts)
	if err != nil {
		ln.Close()
		return err
	}
	return s.Serve(ctx, ln)
}

// Serve accepts WebSocket connections on ln without net/http (every
// request is taken as an upgrade, whatever its path) until ctx ends or ln
// fails. Either way it then closes ln and shuts the Server down, allowing
// wscore.ShutdownTimeout: connections are closed with 1001. It returns nil
// after a stop asked for by ctx, the listener's error otherwise. The App is
// not closed: it belongs to the caller and may be served by other servers
// too. Each handshake runs on a goroutine of its own, bounded by
// Options.HandshakeTimeout.
//
// Clients must wait for the server's 101 answer before sending frames
// (RFC 6455 section 4.1): bytes sent along with the request are lost.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	var handshakes sync.WaitGroup
	accepting := make(chan struct{})
	accept := func() error {
		defer close(accepting)
		for {
			nc, err := ln.Accept()
			if err != nil {
				return err
			}
			handshakes.Go(func() { s.handshake(nc) })
		}
	}
	return wscore.Serve(ctx, accept, func(ctx context.Context) error {
		ln.Close()
		<-accepting // no handshake starts after this
		handshakes.Wait()
		return s.Shutdown(ctx)
	})
}

// handshake upgrades a raw connection: the request line and headers
// become an *http.Request for the origin check and Authenticate.
func (s *Server) handshake(nc net.Conn) {
	if s.closing() {
		nc.Close()
		return
	}
	r := &http.Request{Method: http.MethodGet, Header: http.Header{}, RemoteAddr: nc.RemoteAddr().String(), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	var identity zocket.Identity
	u := ws.Upgrader{
		OnRequest: func(uri []byte) error {
			r.RequestURI = string(uri)
			var err error
			r.URL, err = url.ParseRequestURI(r.RequestURI)
			if err != nil {
				return ws.RejectConnectionError(ws.RejectionStatus(http.StatusBadRequest), ws.RejectionReason("bad request URI"))
			}
			return nil
		},
		OnHost: func(host []byte) error {
			r.Host = string(host)
			return nil
		},
		OnHeader: func(key, value []byte) error {
			r.Header.Add(string(key), string(value))
			return nil
		},
		OnBeforeUpgrade: func() (ws.HandshakeHeader, error) {
			id, status, err := s.opts.Admit(r)
			if err != nil {
				return nil, ws.RejectConnectionError(ws.RejectionStatus(status), ws.RejectionReason(err.Error()))
			}
			identity = id
			return ws.HandshakeHeaderString(""), nil
		},
	}
	nc.SetDeadline(time.Now().Add(s.opts.handshakeTimeout))
	if _, err := u.Upgrade(nc); err != nil {
		s.opts.Logger.Info("wsepoll: upgrade failed", "remote", r.RemoteAddr, "err", err)
		nc.Close()
		return
	}
	nc.SetDeadline(time.Time{})
	s.start(nc, identity, nil)
}
