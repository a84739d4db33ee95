package wsepoll

import (
	"time"

	"github.com/zocket-go/zocket/internal/wsframe"
)

// sweeper is a Server's one goroutine for deadlines: it pings connections
// that have been silent for PingInterval, drops those that stay silent
// PingTimeout after a ping, and drops those whose frame is overdue
// (ReadTimeout). Per-connection timers would cost memory on every idle
// connection; one pass over the connections every tick costs nanoseconds
// each.
type sweeper struct {
	s    *Server
	stop chan struct{}
	done chan struct{}
}

func newSweeper(s *Server) *sweeper {
	w := &sweeper{s: s, stop: make(chan struct{}), done: make(chan struct{})}
	go w.loop(sweepTick(s.opts))
	return w
}

// sweepTick is a quarter of the shortest deadline, between 5ms and 1s: a
// deadline is acted on at most that late.
func sweepTick(o settings) time.Duration {
	d := min(o.PingTimeout, o.readTimeout)
	if o.PingInterval > 0 {
		d = min(d, o.PingInterval)
	}
	return min(max(d/4, 5*time.Millisecond), time.Second)
}

func (w *sweeper) loop(tick time.Duration) {
	defer close(w.done)
	t := time.NewTicker(tick)
	defer t.Stop()
	var conns []*conn
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
		}
		w.s.mu.Lock()
		w.s.conns.each(func(c *conn) { conns = append(conns, c) })
		w.s.mu.Unlock()
		now := w.s.now()
		for _, c := range conns {
			c.sweep(now)
		}
		clear(conns)
		conns = conns[:0]
	}
}

func (w *sweeper) close() {
	close(w.stop)
	<-w.done
}

// pingFrame is an empty ping from the server.
var pingFrame = wsframe.AppendHeader(nil, wsframe.OpPing, 0)

// sweep applies the deadlines to c at time now.
func (c *conn) sweep(now int64) {
	o := &c.s.opts
	if p := c.partialSince.Load(); p != 0 && now-p > int64(o.readTimeout) {
		c.s.opts.Logger.Info("wsepoll: frame not completed within the read timeout; dropping", "clientId", c.id)
		c.drop()
		return
	}
	if o.PingInterval <= 0 {
		return
	}
	last, sent := c.lastRead.Load(), c.pingSent.Load()
	if sent != 0 {
		if last < sent {
			if now-sent > int64(o.PingTimeout) {
				c.s.opts.Logger.Info("wsepoll: peer did not answer ping; dropping", "clientId", c.id)
				c.drop()
			}
			return
		}
		c.pingSent.Store(0)
	}
	if now-last >= int64(o.PingInterval) {
		c.pingSent.Store(now)
		c.control(pingFrame)
	}
}
