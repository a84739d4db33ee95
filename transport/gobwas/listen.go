package gobwas

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/gobwas/ws"

	"github.com/zocket-go/zocket"
)

// ListenAndServe serves app on addr (e.g. "127.0.0.1:3000") from a raw
// listener until ctx ends, then shuts down gracefully: connections are
// closed with 1001 and the App is closed (onDeactivate runs), allowing 10
// seconds.
func ListenAndServe(ctx context.Context, addr string, app *zocket.App, opts Options) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return Serve(ctx, ln, app, opts)
}

// Serve is ListenAndServe on an existing listener, which it closes.
func Serve(ctx context.Context, ln net.Listener, app *zocket.App, opts Options) error {
	s := New(zocket.NewHandler(app), opts)
	err := s.Serve(ctx, ln)
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return errors.Join(err, app.Close(sctx))
}

// Serve accepts WebSocket connections on ln without net/http (every
// request is taken as an upgrade, whatever its path) until ctx ends. Then
// it closes ln and shuts the Server down, allowing 10 seconds. It returns
// nil after a shutdown asked for by ctx, and the listener's error
// otherwise. Each handshake runs on a goroutine of its own, bounded by
// Options.HandshakeTimeout.
//
// Clients must wait for the server's 101 answer before sending frames
// (RFC 6455 section 4.1): bytes sent along with the request are lost.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	var handshakes sync.WaitGroup
	errc := make(chan error, 1)
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				errc <- err
				return
			}
			handshakes.Add(1)
			go func() {
				defer handshakes.Done()
				s.handshake(nc)
			}()
		}
	}()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		ln.Close()
		<-errc
	}
	handshakes.Wait()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return errors.Join(err, s.Shutdown(sctx))
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
			id, status, err := s.admit(r)
			if err != nil {
				return nil, ws.RejectConnectionError(ws.RejectionStatus(status), ws.RejectionReason(err.Error()))
			}
			identity = id
			return ws.HandshakeHeaderString(""), nil
		},
	}
	nc.SetDeadline(time.Now().Add(s.opts.HandshakeTimeout))
	if _, err := u.Upgrade(nc); err != nil {
		s.opts.Logger.Info("gobwas: upgrade failed", "remote", r.RemoteAddr, "err", err)
		nc.Close()
		return
	}
	nc.SetDeadline(time.Time{})
	s.start(nc, identity, nil)
}
