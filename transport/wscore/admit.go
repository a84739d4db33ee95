package wscore

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/zocket-go/zocket"
)

// HTTPError is an error with an HTTP status, for Authenticate hooks: a
// transport answers a refused upgrade with Status and Message (401 for an
// error of another type).
type HTTPError struct {
	Status  int
	Message string
}

// Error returns the message of the HTTP answer.
func (e *HTTPError) Error() string { return e.Message }

// ErrOriginRefused is wrapped by the error of a request whose Origin is
// neither the request's host nor allowed by OriginPatterns.
var ErrOriginRefused = errors.New("wscore: origin not allowed")

// Admit decides whether r may be upgraded: first the origin check, then
// Authenticate. It returns the client's identity, or the HTTP status to
// refuse r with and the reason. o must have its defaults (WithDefaults).
func (o Options) Admit(r *http.Request) (zocket.Identity, int, error) {
	if err := o.checkOrigin(r); err != nil {
		return zocket.Identity{}, http.StatusForbidden, err
	}
	if o.Authenticate == nil {
		return zocket.Identity{}, 0, nil
	}
	identity, err := o.Authenticate(r)
	if err != nil {
		status := http.StatusUnauthorized
		var he *HTTPError
		if errors.As(err, &he) && he.Status != 0 {
			status = he.Status
		}
		return zocket.Identity{}, status, err
	}
	return identity, 0, nil
}

// checkOrigin allows requests without Origin, from the request's own host,
// or from a host matching one of OriginPatterns (as coder/websocket does),
// and logs a refusal with the setting that would allow it.
func (o Options) checkOrigin(r *http.Request) error {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil {
		o.Logger.Warn("wscore: malformed Origin refused", "origin", origin, "remote", r.RemoteAddr)
		return fmt.Errorf("%w: malformed Origin header %q: %w", ErrOriginRefused, origin, err)
	}
	if strings.EqualFold(r.Host, u.Host) {
		return nil
	}
	for _, p := range o.OriginPatterns {
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(u.Host)); ok {
			return nil
		}
	}
	o.Logger.Warn("wscore: origin refused; to allow it, add its host to Options.OriginPatterns",
		"origin", origin, "host", r.Host, "remote", r.RemoteAddr, "allowWith", fmt.Sprintf("OriginPatterns: []string{%q}", u.Host))
	return fmt.Errorf("%w: request Origin %q is not authorized for Host %q", ErrOriginRefused, origin, r.Host)
}
