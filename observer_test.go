package zocket_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

// recorder is an Observer that writes down what it hears, one line each.
type recorder struct {
	mu     sync.Mutex
	events []string
	calls  []zocket.CallInfo
	ends   []zocket.CallEnd
	seen   []any // the value of spanKey in each CallEnd's context
}

type spanKey struct{}

func (r *recorder) add(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, fmt.Sprintf(format, args...))
}

func (r *recorder) CallStart(ctx context.Context, c zocket.CallInfo) context.Context {
	r.add("start %s/%s.%s", c.Actor, c.ActorID, c.Method)
	return context.WithValue(ctx, spanKey{}, c.Method)
}

func (r *recorder) CallEnd(ctx context.Context, c zocket.CallInfo, e zocket.CallEnd) {
	r.add("end %s/%s.%s %s", c.Actor, c.ActorID, c.Method, e.Outcome)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
	r.ends = append(r.ends, e)
	r.seen = append(r.seen, ctx.Value(spanKey{}))
}

func (r *recorder) Activated(actor, id string)   { r.add("activated %s/%s", actor, id) }
func (r *recorder) Deactivated(actor, id string) { r.add("deactivated %s/%s", actor, id) }
func (r *recorder) Subscribed(actor, id string, k zocket.SubscriptionKind) {
	r.add("subscribed %s/%s %s", actor, id, k)
}
func (r *recorder) Unsubscribed(actor, id string, k zocket.SubscriptionKind) {
	r.add("unsubscribed %s/%s %s", actor, id, k)
}
func (r *recorder) Published(actor, id string, frames, bytes int) {
	r.add("published %s/%s %d frames", actor, id, frames)
	if bytes <= 0 {
		r.add("published no bytes")
	}
}

func (r *recorder) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

type obsState struct{ N int }

var (
	obsAdd = zocket.MethodNoResult("add", func(c *zocket.Context[obsState, zocket.NoData], n int) error {
		c.State.N += n
		return nil
	})
	obsFail = zocket.MethodNoInput("fail", func(*zocket.Context[obsState, zocket.NoData]) (int, error) {
		return 0, errors.New("refused")
	})
	obsPanic = zocket.MethodNoInput("panic", func(*zocket.Context[obsState, zocket.NoData]) (int, error) {
		panic("boom")
	})
	// obsSpan returns what the observer put in the handler's context.
	obsSpan = zocket.MethodNoInput("span", func(c *zocket.Context[obsState, zocket.NoData]) (string, error) {
		s, _ := c.Context().Value(spanKey{}).(string)
		return s, nil
	})
	// obsWait blocks until its channel is closed.
	obsWait = zocket.MethodNoInput("wait", func(c *zocket.Context[obsState, zocket.NoData]) (int, error) {
		<-obsRelease
		return 0, nil
	})
	obsRelease chan struct{}
)

func observedApp(o zocket.Observer) *zocket.App {
	return zocket.NewApp(zocket.WithObserver(o)).Register("obs",
		zocket.NewActor[obsState]().Methods(obsAdd, obsFail, obsPanic, obsSpan, obsWait))
}

func TestObserver_HearsLifecycleSubscriptionsPublishesAndCallOutcomes(t *testing.T) {
	rec := &recorder{}
	app := observedApp(rec)
	ctx := context.Background()
	h := zocket.NewHandler(app)
	_, err := app.Invoke(ctx, "obs", "a", "fail", nil) // activates the instance
	require.Error(t, err)
	sub := zocket.NewLocalConn("sub", zocket.Identity{})
	h.Attach(sub)
	h.OnMessage(sub, []byte(`{"type":"state:sub","actor":"obs","actorId":"a"}`))
	h.OnMessage(sub, []byte(`{"type":"event:sub","actor":"obs","actorId":"a"}`))
	_, err = app.Invoke(ctx, "obs", "a", "add", json.RawMessage("2"))
	require.NoError(t, err)
	_, err = app.Invoke(ctx, "obs", "a", "panic", nil)
	require.ErrorIs(t, err, zocket.ErrPanic)
	h.OnMessage(sub, []byte(`{"type":"event:unsub","actor":"obs","actorId":"a"}`))
	require.NoError(t, app.Destroy(ctx, "obs", "a"))

	assert.Equal(t, []string{
		"activated obs/a",
		"start obs/a.fail", "end obs/a.fail error",
		"subscribed obs/a state",
		"subscribed obs/a events",
		"start obs/a.add", "published obs/a 1 frames", "end obs/a.add ok",
		"start obs/a.panic", "end obs/a.panic panic",
		"unsubscribed obs/a events",
		"unsubscribed obs/a state", // the instance's destruction ends it
		"deactivated obs/a",
	}, rec.lines())
	assert.EqualError(t, rec.ends[0].Err, "refused")
	assert.Equal(t, []any{"fail", "add", "panic"}, rec.seen, "CallEnd gets the context CallStart returned")
}

func TestObserver_ContextFromCallStartReachesTheHandler(t *testing.T) {
	app := observedApp(&recorder{})
	got, err := obsSpan.Invoke(context.Background(), app, "obs", "a", zocket.None{})
	require.NoError(t, err)
	assert.Equal(t, "span", got)
}

func TestObserver_CallFromAConnectionCarriesItsClientID(t *testing.T) {
	rec := &recorder{}
	app := observedApp(rec)
	h := zocket.NewHandler(app)
	c := zocket.NewLocalConn("c1", zocket.Identity{})
	h.OnConnection(c)
	h.OnMessage(c, []byte(`{"type":"rpc","id":1,"actor":"obs","actorId":"a","method":"add","input":1}`))
	_, _ = c.Next(context.Background()) // welcome
	_, err := c.Next(context.Background())
	require.NoError(t, err)
	// The answer is out before CallEnd: wait for it through a later call.
	_, err = app.Invoke(context.Background(), "obs", "a", "add", json.RawMessage("1"))
	require.NoError(t, err)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	assert.Equal(t, "c1", rec.calls[0].ClientID)
	assert.Equal(t, "", rec.calls[1].ClientID)
}

func TestObserver_QueuedIsTheTimeACallWaitedInTheMailbox(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		app := observedApp(rec)
		ctx := context.Background()
		obsRelease = make(chan struct{})
		blocked := make(chan error, 1)
		go func() { _, err := app.Invoke(ctx, "obs", "a", "wait", nil); blocked <- err }()
		synctest.Wait() // the wait call runs and blocks the mailbox
		queued := make(chan error, 1)
		go func() { _, err := app.Invoke(ctx, "obs", "a", "add", json.RawMessage("1")); queued <- err }()
		synctest.Wait() // the add call is in the mailbox
		time.Sleep(3 * time.Second)
		close(obsRelease)
		require.NoError(t, <-blocked)
		require.NoError(t, <-queued)
		require.NoError(t, app.Close(ctx))
		rec.mu.Lock()
		defer rec.mu.Unlock()
		require.Len(t, rec.calls, 2)
		assert.Equal(t, "add", rec.calls[1].Method)
		assert.Equal(t, 3*time.Second, rec.calls[1].Queued)
		assert.Equal(t, 3*time.Second, rec.ends[0].Duration, "the wait call ran 3s")
	})
}
