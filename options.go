package zocket

import (
	"log/slog"
	"time"
)

// Defaults of the App's options.
const (
	// DefaultShutdownGrace is how long App.Close waits for running calls
	// and onDeactivate hooks (WithShutdownGrace).
	DefaultShutdownGrace = 10 * time.Second
	// DefaultSlowCallWarning is how long a call may run before a warning
	// is logged (WithSlowCallWarning).
	DefaultSlowCallWarning = 10 * time.Second
	// DefaultMaxInFlight is how many rpcs one connection may have
	// unanswered (WithMaxInFlight).
	DefaultMaxInFlight = 256
	// DefaultMaxSubscriptions is how many subscriptions one connection may
	// hold (WithMaxSubscriptions).
	DefaultMaxSubscriptions = 1000
)

// Option configures an App.
type Option func(*App)

// WithLogger sets the logger; the default discards everything.
func WithLogger(l *slog.Logger) Option { return func(a *App) { a.log = l } }

// WithInstanceCreated sets a function called after an instance activated
// (its onActivate finished). It runs on the instance's mailbox and must not
// block.
func WithInstanceCreated(fn func(actor, id string)) Option {
	return func(a *App) { a.created = fn }
}

// WithInstanceDestroyed sets a function called after an instance was
// destroyed (its onDeactivate finished). It must not block.
func WithInstanceDestroyed(fn func(actor, id string)) Option {
	return func(a *App) { a.destroyed = fn }
}

// WithShutdownGrace sets how long App.Close waits, at most, for running
// calls to return and onDeactivate hooks to finish (default
// DefaultShutdownGrace; the context given to Close can only shorten it).
// The contexts of running and queued method calls are cancelled when Close
// begins; the hooks' context when the grace period ends.
func WithShutdownGrace(d time.Duration) Option { return func(a *App) { a.grace = d } }

// WithSlowCallWarning sets how long a method call may run before a warning
// naming the actor, instance, method and caller is logged, once per call
// (default DefaultSlowCallWarning; ≤ 0 disables the warning). The warning
// comes when the call has run between d and 2d: the watch ticks every d
// instead of reading the clock on every call. A call that
// never returns stalls its instance: every later message for it waits.
// Hooks are not watched.
func WithSlowCallWarning(d time.Duration) Option { return func(a *App) { a.slowCall = d } }

// WithMaxInFlight sets how many rpcs one connection may have waiting for
// their rpc:result (default DefaultMaxInFlight; ≤ 0: no limit). An rpc
// beyond the limit is answered at once with the error
// "Too many calls in flight (limit N)" and never runs. App.Invoke is not
// limited.
func WithMaxInFlight(n int) Option { return func(a *App) { a.maxInFlight = n } }

// WithMaxSubscriptions sets how many subscriptions (state:sub and
// event:sub, counted per instance and kind) one connection may hold
// (default DefaultMaxSubscriptions; ≤ 0: no limit). The protocol has no
// answer to a subscription, so one beyond the limit is ignored and logged
// at warning level; unsubscribing frees a place.
func WithMaxSubscriptions(n int) Option { return func(a *App) { a.maxSubs = n } }

// WithPublicErrorsOnly makes handler errors reach clients only when they
// are marked public (PublicError, or any error with a Public() bool method
// returning true); the text of every other error is replaced by
// "Internal error" on the wire and logged in full. Errors of the framework
// itself (unknown method, validation, limits) stay as they are. Without this
// option, as in the TypeScript server, a handler error's text reaches the
// client verbatim. App.Invoke always returns the handler's own error.
func WithPublicErrorsOnly() Option { return func(a *App) { a.publicOnly = true } }
