package main

import (
	"context"
	"log/slog"
	"net"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/ai"
	"github.com/zocket-go/zocket/ai/replay"
	"github.com/zocket-go/zocket/internal/testsupport/browsertest"
)

// held is a model that says "Hello", then waits for release (or for
// its run to be stopped) before " world".
func held(release <-chan struct{}) *replay.Provider {
	answer := replay.Answer("Hello world")
	answer.Hold, answer.HoldAt = release, 1
	return replay.Script(answer)
}

// twoTabs serves the example with model p and opens its page in two tabs
// on one session.
func twoTabs(t *testing.T, p ai.Provider) (a, b context.Context) {
	browser := browsertest.Browser(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveWith(ctx, ln, slog.New(slog.DiscardHandler), p) }()
	t.Cleanup(func() { cancel(); assert.NoError(t, <-done) })
	url := "http://" + ln.Addr().String() + "/?session=s1"
	open := func() context.Context {
		tab := browsertest.Tab(t, browser)
		require.NoError(t, chromedp.Do(tab, chromedp.Navigate(url),
			chromedp.WaitVisible(chromedp.CSS(`body[data-status="connected"] #messages`))))
		return tab
	}
	return open(), open()
}

func ask(tab context.Context, text string) error {
	_, err := chromedp.Run(tab, chromedp.Evaluate[bool](`document.querySelector("#text").value = `+browsertest.Quote(text)+
		`; document.querySelector("#send").requestSubmit(); true`))
	return err
}

func shows(tab context.Context, want string) error {
	return browsertest.Until(tab, `document.querySelector("#messages").innerText.replace(/\s+/g, " ").trim() === `+browsertest.Quote(want))
}

func TestPage_TwoTabsWatchOneAnswerStream(t *testing.T) {
	release := make(chan struct{})
	a, b := twoTabs(t, held(release))
	require.NoError(t, ask(a, "greet me"))
	require.NoError(t, shows(b, "user: greet me assistant: Hello ▍"), "the other tab sees the answer arrive")
	close(release)
	require.NoError(t, shows(b, "user: greet me assistant: Hello world"))
	require.NoError(t, shows(a, "user: greet me assistant: Hello world"))
}

func TestPage_StopInOneTabStopsTheAnswerInBoth(t *testing.T) {
	a, b := twoTabs(t, held(make(chan struct{})))
	require.NoError(t, ask(a, "greet me"))
	require.NoError(t, shows(b, "user: greet me assistant: Hello ▍"))
	_, err := chromedp.Run(b, chromedp.Evaluate[bool](`document.querySelector("#stop").click(); true`))
	require.NoError(t, err)
	require.NoError(t, shows(a, "user: greet me assistant: Hello (stopped)"), "the run in the busy mailbox stopped")
}
