package wsepoll_test

import (
	"bufio"
	"context"
	"errors"
	"github.com/zocket-go/zocket/internal/testsupport/poll"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/internal/testsupport/transporttest"
	"github.com/zocket-go/zocket/internal/testsupport/wstest"
	"github.com/zocket-go/zocket/transport/wscore"
	"github.com/zocket-go/zocket/transport/wsepoll"
)

// options maps the contract's options onto this transport's.
func options(o wscore.Options) wsepoll.Options {
	return wsepoll.Options{
		OriginPatterns: o.OriginPatterns, Authenticate: o.Authenticate, ReadLimit: o.ReadLimit,
		PingInterval: o.PingInterval, PingTimeout: o.PingTimeout, SendQueue: o.SendQueue,
		SendQueueBytes: o.SendQueueBytes, WriteTimeout: o.WriteTimeout, Logger: o.Logger, OnSlowConsumer: o.OnSlowConsumer,
	}
}

// viaHTTP serves a Server as an http.Handler of a net/http server.
type viaHTTP struct{ *wsepoll.Server }

func (v viaHTTP) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: v.Server}
	return wscore.Serve(ctx,
		func() error { return srv.Serve(ln) },
		func(ctx context.Context) error { return errors.Join(srv.Shutdown(ctx), v.Server.Shutdown(ctx)) })
}

func (v viaHTTP) Conn(clientID string) zocket.Connection { return wsepoll.ConnOf(v.Server, clientID) }

// raw is a Server serving raw listeners itself.
type raw struct{ *wsepoll.Server }

func (r raw) Conn(clientID string) zocket.Connection { return wsepoll.ConnOf(r.Server, clientID) }

// TestContract runs the transport contract (internal/testsupport/transporttest) from
// an http.Handler, from a raw listener, and with a goroutine per
// connection.
func TestContract(t *testing.T) {
	t.Run("HTTPHandler", func(t *testing.T) {
		transporttest.Run(t, func(h *zocket.Handler, o wscore.Options) (transporttest.Server, error) {
			s, err := wsepoll.New(h, options(o))
			return viaHTTP{s}, err
		})
	})
	t.Run("RawListener", func(t *testing.T) {
		transporttest.Run(t, func(h *zocket.Handler, o wscore.Options) (transporttest.Server, error) {
			s, err := wsepoll.New(h, options(o))
			return raw{s}, err
		})
	})
	t.Run("GoroutinePerConn", func(t *testing.T) {
		transporttest.Run(t, func(h *zocket.Handler, o wscore.Options) (transporttest.Server, error) {
			opts := options(o)
			opts.GoroutinePerConn = true
			s, err := wsepoll.New(h, opts)
			return raw{s}, err
		})
	})
}

// startHTTP serves app through Server.ServeHTTP on an httptest server.
func startHTTP(t *testing.T, app *zocket.App, opts wsepoll.Options) (*wsepoll.Server, string) {
	t.Helper()
	s, err := wsepoll.New(zocket.NewHandler(app), opts)
	require.NoError(t, err)
	srv := httptest.NewServer(s)
	t.Cleanup(func() {
		assert.NoError(t, s.Shutdown(context.Background()))
		srv.Close()
	})
	return s, "ws" + strings.TrimPrefix(srv.URL, "http")
}

// startRaw serves app through Server.Serve on a loopback listener.
func startRaw(t *testing.T, app *zocket.App, opts wsepoll.Options) (*wsepoll.Server, string) {
	t.Helper()
	s, err := wsepoll.New(zocket.NewHandler(app), opts)
	require.NoError(t, err)
	url := wstest.Serve(t, func(ctx context.Context, ln net.Listener, _ *slog.Logger) error { return s.Serve(ctx, ln) })
	return s, url
}

// peer is a raw WebSocket client: it writes frames exactly as told
// (masked unless told otherwise) and reads the server's frames as they are.
type peer struct {
	t  *testing.T
	nc net.Conn
	r  *bufio.Reader
}

func dialPeer(t *testing.T, url string) *peer {
	t.Helper()
	nc, br, _, err := ws.Dial(t.Context(), url)
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	p := &peer{t: t, nc: nc, r: bufio.NewReader(nc)}
	if br != nil {
		p.r = br
	}
	assert.Contains(t, string(p.next(ws.OpText).Payload), `"type":"welcome"`)
	return p
}

func (p *peer) write(b []byte) {
	p.t.Helper()
	_, err := p.nc.Write(b)
	require.NoError(p.t, err)
}

// frame encodes a client frame; masked unless mask is false.
func frame(op ws.OpCode, fin, mask bool, payload string) []byte {
	f := ws.NewFrame(op, fin, []byte(payload))
	if mask {
		f = ws.MaskFrameWith(f, [4]byte{1, 2, 3, 4})
	}
	b, err := ws.CompileFrame(f)
	if err != nil {
		panic(err)
	}
	return b
}

func text(payload string) []byte { return frame(ws.OpText, true, true, payload) }

// read reads the next server frame within 5 seconds.
func (p *peer) read() (ws.Frame, error) {
	p.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	return ws.ReadFrame(p.r)
}

// next reads the next frame and checks its opcode; server frames are
// never masked.
func (p *peer) next(op ws.OpCode) ws.Frame {
	p.t.Helper()
	f, err := p.read()
	require.NoError(p.t, err)
	require.False(p.t, f.Header.Masked, "server frames are unmasked")
	require.Equal(p.t, op, f.Header.OpCode, "payload %q", f.Payload)
	return f
}

// closed expects a close frame with code, then the end of the stream.
func (p *peer) closed(code ws.StatusCode) {
	p.t.Helper()
	f := p.next(ws.OpClose)
	got, _ := ws.ParseCloseFrameData(f.Payload)
	assert.Equal(p.t, code, got)
	_, err := p.read()
	assert.Error(p.t, err, "the server closes the socket after the close frame")
}

const rpcWho = `{"type":"rpc","id":"w","actor":"blob","actorId":"b","method":"who"}`

// watchDisconnects returns an app whose "blob" actor counts onDisconnect.
func watchDisconnects() (*zocket.App, *atomic.Int64) {
	var gone atomic.Int64
	type st struct{}
	app := zocket.NewApp().Register("blob", zocket.NewActor[st]().
		Methods(
			zocket.MethodNoInput("who", func(c *zocket.Context[st, zocket.NoData]) (string, error) { return c.ClientID, nil }),
			zocket.MethodNoInput("inc", func(c *zocket.Context[st, zocket.NoData]) (int, error) { return 1, nil }),
		).
		OnDisconnect(func(*zocket.Lifecycle[st]) error { gone.Add(1); return nil }))
	return app, &gone
}

func TestMaskedClientFramesRequired(t *testing.T) {
	_, url := startRaw(t, transporttest.App(), wsepoll.Options{})
	p := dialPeer(t, url)
	p.write(frame(ws.OpText, true, false, rpcWho))
	p.closed(ws.StatusProtocolError)
}

func TestProtocolErrorsClose(t *testing.T) {
	_, url := startRaw(t, transporttest.App(), wsepoll.Options{ReadLimit: 1024})
	rsv := text(rpcWho)
	rsv[0] |= 0x40 // RSV1 without an extension
	cases := []struct {
		name  string
		bytes []byte
		code  ws.StatusCode
	}{
		{"reserved opcode", frame(0x3, true, true, "x"), ws.StatusProtocolError},
		{"reserved bit", rsv, ws.StatusProtocolError},
		{"fragmented ping", frame(ws.OpPing, false, true, "x"), ws.StatusProtocolError},
		{"oversized ping", frame(ws.OpPing, true, true, strings.Repeat("x", 126)), ws.StatusProtocolError},
		{"continuation first", frame(ws.OpContinuation, true, true, "x"), ws.StatusProtocolError},
		{"text inside a fragmented message", append(frame(ws.OpText, false, true, "{"), text(rpcWho)...), ws.StatusProtocolError},
		{"close body of one byte", frame(ws.OpClose, true, true, "x"), ws.StatusProtocolError},
		{"message over the read limit", text(strings.Repeat("x", 1025)), ws.StatusMessageTooBig},
		{"fragments over the read limit", append(frame(ws.OpText, false, true, strings.Repeat("x", 600)),
			frame(ws.OpContinuation, true, true, strings.Repeat("x", 600))...), ws.StatusMessageTooBig},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := dialPeer(t, url)
			p.write(tc.bytes)
			p.closed(tc.code)
		})
	}
}

func TestPingIsAnsweredWithPong(t *testing.T) {
	_, url := startRaw(t, transporttest.App(), wsepoll.Options{})
	p := dialPeer(t, url)
	p.write(frame(ws.OpPing, true, true, "hello"))
	assert.Equal(t, "hello", string(p.next(ws.OpPong).Payload))
	p.write(frame(ws.OpPing, true, true, ""))
	assert.Empty(t, p.next(ws.OpPong).Payload)
	p.write(frame(ws.OpPong, true, true, "unsolicited")) // ignored, RFC 6455 section 5.5.3
	p.write(text(rpcWho))
	assert.Contains(t, string(p.next(ws.OpText).Payload), `"id":"w"`)
}

func TestCloseIsEchoedAndDisconnects(t *testing.T) {
	app, gone := watchDisconnects()
	s, url := startRaw(t, app, wsepoll.Options{})
	p := dialPeer(t, url)
	p.write(text(rpcWho))
	p.next(ws.OpText)
	p.write(frame(ws.OpClose, true, true, string(ws.NewCloseFrameBody(ws.StatusNormalClosure, "bye"))))
	p.closed(ws.StatusNormalClosure)
	poll.Until(t, func() bool { return gone.Load() == 1 && s.Len() == 0 }, "the connection was forgotten")
}

func TestFragmentedMessageWithInterleavedPing(t *testing.T) {
	_, url := startRaw(t, transporttest.App(), wsepoll.Options{})
	p := dialPeer(t, url)
	msg := `{"type":"rpc","id":"frag","actor":"blob","actorId":"b","method":"echoSize","input":{"n":3}}`
	var b []byte
	b = append(b, frame(ws.OpText, false, true, msg[:10])...)
	b = append(b, frame(ws.OpPing, true, true, "mid")...) // control frames may interleave
	b = append(b, frame(ws.OpContinuation, false, true, msg[10:40])...)
	b = append(b, frame(ws.OpContinuation, false, true, "")...)
	b = append(b, frame(ws.OpContinuation, true, true, msg[40:])...)
	p.write(b)
	assert.Equal(t, "mid", string(p.next(ws.OpPong).Payload))
	assert.Equal(t, `{"type":"rpc:result","id":"frag","result":"yyy"}`, string(p.next(ws.OpText).Payload))
}

func TestBinaryMessagesAreHandledLikeText(t *testing.T) {
	_, url := startRaw(t, transporttest.App(), wsepoll.Options{})
	p := dialPeer(t, url)
	p.write(frame(ws.OpBinary, true, true, rpcWho))
	assert.Contains(t, string(p.next(ws.OpText).Payload), `"id":"w"`)
}

// A frame that arrives one byte at a time is parsed across reads, at
// every header size.
func TestFrameArrivingByteByByte(t *testing.T) {
	_, url := startRaw(t, transporttest.App(), wsepoll.Options{})
	p := dialPeer(t, url)
	for _, pad := range []int{0, 200, 70000} {
		msg := `{"type":"rpc","id":"slow","actor":"blob","actorId":"b","method":"echoSize","input":{"n":2,"pad":"` + strings.Repeat("p", pad) + `"}}`
		b := text(msg)
		step := 1
		if pad > 1000 {
			step = 997 // a big frame in many small writes
		}
		for i := 0; i < len(b); i += step {
			p.write(b[i:min(i+step, len(b))])
			if pad == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		assert.Equal(t, `{"type":"rpc:result","id":"slow","result":"yy"}`, string(p.next(ws.OpText).Payload), "pad %d", pad)
	}
}

// A peer that trickles a frame holds its read buffer only until the read
// timeout, then loses the connection.
func TestTrickledFrameIsDroppedAfterReadTimeout(t *testing.T) {
	app, gone := watchDisconnects()
	s, url := startRaw(t, app, wsepoll.Options{ReadTimeout: 200 * time.Millisecond})
	p := dialPeer(t, url)
	p.write(text(rpcWho))
	p.next(ws.OpText)
	b := text(`{"type":"rpc","id":"never","actor":"blob","actorId":"b","method":"who"}`)
	began := time.Now()
	p.write(b[:3])
	poll.Until(t, func() bool { return s.Stats().ReadBuffers == 1 }, "a buffer is held for the partial frame")
	for i := 3; i < len(b)-1; i++ {
		if _, err := p.nc.Write(b[i : i+1]); err != nil {
			break // dropped
		}
		if time.Since(began) > 3*time.Second {
			t.Fatal("still connected after the read timeout")
		}
		time.Sleep(50 * time.Millisecond)
		if s.Len() == 0 {
			break
		}
	}
	poll.Until(t, func() bool { return s.Len() == 0 && gone.Load() == 1 }, "the connection was dropped and forgotten")
	assert.Less(t, time.Since(began), 2*time.Second)
	assert.Equal(t, wsepoll.Stats{}, s.Stats(), "no buffer, writer or connection is left")
}

// A peer that vanishes (its socket stays open, nothing answers) is found
// by the ping deadline, and onDisconnect runs.
func TestVanishedPeerIsDroppedByPingDeadline(t *testing.T) {
	app, gone := watchDisconnects()
	s, url := startRaw(t, app, wsepoll.Options{PingInterval: 50 * time.Millisecond, PingTimeout: 100 * time.Millisecond})
	p := dialPeer(t, url)
	p.write(text(rpcWho))
	p.next(ws.OpText)
	// From now on the peer neither reads nor writes.
	poll.Until(t, func() bool { return gone.Load() == 1 && s.Len() == 0 }, "the connection was forgotten")
	f := p.next(ws.OpPing) // what the server sent before giving up
	assert.Empty(t, f.Payload)
}

// Thousands of connections open, subscribe, call and close concurrently;
// afterwards nothing is held: no connection, buffer or writer, and every
// onDisconnect ran.
func TestThousandsOfConnectionsOpenAndCloseConcurrently(t *testing.T) {
	for _, perConn := range []bool{false, true} {
		name := "epoll"
		if perConn {
			name = "goroutine per connection"
		}
		t.Run(name, func(t *testing.T) {
			app, gone := watchDisconnects()
			s, url := startRaw(t, app, wsepoll.Options{GoroutinePerConn: perConn})
			const conns, workers = 2000, 50
			var wg sync.WaitGroup
			var calls atomic.Int64
			for w := range workers {
				wg.Go(func() {
					for i := w; i < conns; i += workers {
						nc, br, _, err := ws.Dial(context.Background(), url)
						if !assert.NoError(t, err) {
							return
						}
						r := bufio.NewReader(nc)
						if br != nil {
							r = br
						}
						nc.Write(text(`{"type":"state:sub","actor":"blob","actorId":"a` + string(rune('a'+i%7)) + `"}`))
						nc.Write(text(`{"type":"rpc","id":"i","actor":"blob","actorId":"a` + string(rune('a'+i%7)) + `","method":"inc"}`))
						for {
							f, err := ws.ReadFrame(r)
							if !assert.NoError(t, err) {
								break
							}
							if strings.Contains(string(f.Payload), `"rpc:result"`) {
								calls.Add(1)
								break
							}
						}
						if i%2 == 0 {
							nc.Write(frame(ws.OpClose, true, true, string(ws.NewCloseFrameBody(ws.StatusNormalClosure, ""))))
						}
						nc.Close() // half of them vanish without a close frame
					}
				})
			}
			wg.Wait()
			assert.Equal(t, int64(conns), calls.Load())
			poll.Until(t, func() bool { return gone.Load() == conns }, "ran onDisconnect for every connection")
			poll.Until(t, func() bool { return s.Stats() == wsepoll.Stats{} }, "released every buffer and waiter")
		})
	}
}
