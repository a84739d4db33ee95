package client_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/zocket-go/zocket/client"
)

// dialLog is a Dialer that fails every attempt with err and records when
// each attempt happened.
type dialLog struct {
	err error
	mu  sync.Mutex
	at  []time.Time
}

func (d *dialLog) dial(context.Context, string) (client.Socket, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.at = append(d.at, time.Now())
	return nil, d.err
}

func (d *dialLog) attempts() []time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]time.Time(nil), d.at...)
}

// runFor lets a client dialing through d run for a while of the bubble's
// fake time, then closes it.
func runFor(d *dialLog, wait time.Duration) {
	c := client.New("ws://fake", client.Options{Dial: d.dial, ConnectTimeout: -1})
	time.Sleep(wait)
	synctest.Wait()
	c.Close()
}

func TestReconnect_WaitsTheDefaultBackoffBeforeEachAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &dialLog{err: errors.New("connection refused")}
		runFor(d, 10*time.Second)
		at := d.attempts()
		bases := []time.Duration{250, 500, 1000, 2000, 2000, 2000}
		if !assert.Greater(t, len(at), len(bases)) {
			return
		}
		for i, base := range bases {
			gap := at[i+1].Sub(at[i])
			assert.GreaterOrEqual(t, gap, base*time.Millisecond, "attempt %d", i+1)
			assert.Less(t, gap, (base+100)*time.Millisecond, "attempt %d", i+1)
		}
	})
}

func TestReconnect_ServerErrorsAndThrottlingAreRetried(t *testing.T) {
	for _, code := range []int{408, 429, 500, 503} {
		synctest.Test(t, func(t *testing.T) {
			d := &dialLog{err: &client.HandshakeError{StatusCode: code, Err: errors.New("not now")}}
			runFor(d, time.Minute)
			assert.Greater(t, len(d.attempts()), 10, "HTTP %d", code)
		})
	}
}

func TestReconnect_ClientErrorsAreNeverRetried(t *testing.T) {
	for _, code := range []int{400, 401, 403, 404} {
		synctest.Test(t, func(t *testing.T) {
			d := &dialLog{err: &client.HandshakeError{StatusCode: code, Err: errors.New("no")}}
			c := client.New("ws://fake", client.Options{Dial: d.dial, ConnectTimeout: -1})
			defer c.Close()
			err := c.Ready(context.Background())
			time.Sleep(time.Hour)
			synctest.Wait()
			assert.Len(t, d.attempts(), 1, "HTTP %d", code)
			var he *client.HandshakeError
			if assert.ErrorAs(t, err, &he) {
				assert.Equal(t, code, he.StatusCode)
			}
			assert.Equal(t, client.Disconnected, c.Status())
			assert.Equal(t, err, c.Err())
		})
	}
}
