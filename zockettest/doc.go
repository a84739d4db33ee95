// Package zockettest is a test kit for code built on zocket: it runs an
// App in-process and reaches it without sockets, either through the typed
// Go client (package client) or frame by frame.
//
//	srv := zockettest.NewServer(app, zockettest.Options{})
//	c := srv.Client(t, client.Options{})            // a *client.Client, closed when t ends
//	n, err := client.Call(ctx, c.Actor("counter", "a"), increment, 1)
//
//	conn := srv.Connect(t, "c1", zocket.Identity{}) // raw frames
//	conn.Next()                                     // welcome
//	res := conn.Call("counter", "a", "increment", 1) // its rpc:result
//
// Time: neither zocket nor the client has a clock of its own to replace.
// Tests of timers, reconnect backoff and timeouts run under
// testing/synctest, whose bubble gives every goroutine a fake clock that
// jumps ahead when they all wait: create the Server and its clients inside
// synctest.Test and a two-second backoff takes no time and is exact.
//
//	synctest.Test(t, func(t *testing.T) {
//		srv := zockettest.NewServer(app, zockettest.Options{})
//		c := srv.Client(t, client.Options{})
//		srv.Drop("gone")
//		time.Sleep(350 * time.Millisecond) // past the first backoff (250 ms + jitter)
//		synctest.Wait()
//		// here c.Status() is client.Connected again, on a new connection
//	})
//
// The subpackage conformance is the conformance suite of a server,
// for any transport and framing, with its fixture actors.
package zockettest
