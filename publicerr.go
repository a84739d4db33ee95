package zocket

import "errors"

// errInternal is what a caller receives for a call that failed inside the
// mailbox, and, under WithPublicErrorsOnly, for a handler error that is
// not public.
var errInternal = &CallError{Message: "Internal error", Kind: ErrInternal}

// PublicError marks err as meant for the client: under
// WithPublicErrorsOnly its text is sent to the caller; other handler errors
// are replaced by "Internal error" (and logged in full). Without that
// option every error's text is sent anyway, and PublicError changes
// nothing. errors.Is and errors.As see through it. It returns nil for nil.
//
//	if !allowed {
//		return zocket.PublicError(errors.New("not your turn"))
//	}
func PublicError(err error) error {
	if err == nil {
		return nil
	}
	return &publicError{err}
}

type publicError struct{ err error }

func (e *publicError) Error() string { return e.err.Error() }
func (e *publicError) Unwrap() error { return e.err }
func (e *publicError) Public() bool  { return true }

// isPublic reports whether err may reach a client under
// WithPublicErrorsOnly: errors the framework produces (unknown actor or
// method, validation, panic) and errors whose chain has a
// Public() bool method returning true, as PublicError's does.
func isPublic(err error) bool {
	var ce *CallError
	var ve *ValidationError
	if errors.As(err, &ce) || errors.As(err, &ve) {
		return true
	}
	var p interface{ Public() bool }
	return errors.As(err, &p) && p.Public()
}

// errorText is the error text sent to the caller of (actor, id, method):
// the error's own text ("Unknown error" for an empty one), or, under
// WithPublicErrorsOnly, "Internal error" for an error that is not public,
// which is then logged in full.
func (a *App) errorText(err error, ci *callInfo) string {
	if a.publicOnly && !isPublic(err) {
		a.log.Error("zocket: call failed; the client sees \"Internal error\"", "actor", ci.actor,
			"actorId", ci.actorID, "method", ci.method, "clientId", ci.clientID, "err", err)
		return errInternal.Message
	}
	return safeMessage(err)
}
