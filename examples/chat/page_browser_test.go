package main

import (
	"context"
	"log/slog"
	"net"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/examples/internal/exampleserver"
	"github.com/zocket-go/zocket/internal/testsupport/browsertest"
)

// server runs the chat example on addr ("127.0.0.1:0": any port),
// accepting pages from the origins, until stop, which waits for its
// shutdown; it returns the address.
func server(t *testing.T, addr string, origins ...string) (string, func()) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(exampleserver.WithOrigins(context.Background(), origins))
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, slog.New(slog.DiscardHandler)) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		assert.NoError(t, <-done)
	}
	t.Cleanup(stop)
	return ln.Addr().String(), stop
}

// open loads the chat page in a new tab and waits until it is connected.
func open(t *testing.T, browser context.Context, url string) context.Context {
	t.Helper()
	tab := browsertest.Tab(t, browser)
	require.NoError(t, chromedp.Do(tab, chromedp.Navigate(url), connected()))
	return tab
}

func connected() chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(`body[data-status="connected"] #messages`))
}

// say sends text from the page's form.
func say(tab context.Context, text string) error {
	_, err := chromedp.Run(tab, chromedp.Evaluate[bool](`document.querySelector("#text").value = `+browsertest.Quote(text)+
		`; document.querySelector("#send").requestSubmit(); true`))
	return err
}

// shows waits until the page's message list reads exactly want.
func shows(tab context.Context, want string) error {
	return browsertest.Until(tab, `document.querySelector("#messages").innerText.replace(/\s+/g, " ").trim() === `+browsertest.Quote(want))
}

// annOnline starts a server and a browser showing Ann's page of it.
func annOnline(t *testing.T) (browser context.Context, addr string, stop func(), ann context.Context) {
	browser = browsertest.Browser(t)
	addr, stop = server(t, "127.0.0.1:0")
	return browser, addr, stop, open(t, browser, "http://"+addr+"/?name=Ann")
}

func TestPage_TwoTabsChatWithEachOther(t *testing.T) {
	browser, addr, _, ann := annOnline(t)
	bob := open(t, browser, "http://"+addr+"/?name=Bob")

	require.NoError(t, say(ann, "hello Bob"))
	require.NoError(t, shows(bob, "Ann hello Bob"), "Bob's page shows Ann's message")
	require.NoError(t, say(bob, "hi Ann"))
	require.NoError(t, shows(ann, "Ann hello Bob Bob hi Ann"), "Ann's page shows both, in order")
}

func TestPage_RecoversAfterServerRestartOnSamePort(t *testing.T) {
	browser, addr, stop, ann := annOnline(t)
	require.NoError(t, say(ann, "before"))
	require.NoError(t, shows(ann, "Ann before"))

	stop()
	require.NoError(t, browsertest.Until(ann, `document.body.dataset.status === "reconnecting"`), "the page notices the server is gone")

	server(t, addr) // a new server without storage (as with -memory): the room starts empty
	require.NoError(t, chromedp.Do(ann, connected()), "the page reconnects by itself")
	require.NoError(t, shows(ann, ""), "the state is the new server's snapshot")
	bob := open(t, browser, "http://"+addr+"/?name=Bob")
	require.NoError(t, say(bob, "after"))
	require.NoError(t, shows(ann, "Bob after"), "the page resubscribed: it follows the new server's state")
}

func TestPage_ShowsAnRPCErrorMessage(t *testing.T) {
	_, _, _, ann := annOnline(t)
	require.NoError(t, say(ann, "")) // text is required
	require.NoError(t, chromedp.Do(ann, chromedp.WaitVisible(chromedp.CSS("#error"))))
	msg, err := chromedp.Run(ann, chromedp.Text(chromedp.CSS("#error")))
	require.NoError(t, err)
	assert.Contains(t, msg, "Validation failed for sendMessage: ")
}
