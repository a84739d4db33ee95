package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/examples/internal/exampleserver"
	"github.com/zocket-go/zocket/internal/testsupport/browsertest"
)

// devServer serves the chat page from another origin (another port), as a
// dev server such as Vite would; it returns the origin's host.
func devServer(t *testing.T) string {
	srv := httptest.NewServer(exampleserver.Site(http.NotFoundHandler(), pages()))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// probe opens a WebSocket to url from the tab's page and reports whether
// the server accepted it.
func probe(tab context.Context, url string) (string, error) {
	return chromedp.Run(tab, chromedp.Evaluate[string](`new Promise((resolve) => {
		const ws = new WebSocket(`+browsertest.Quote(url)+`);
		ws.onopen = () => { ws.close(); resolve("accepted"); };
		ws.onclose = () => resolve("refused");
	})`, chromedp.EvalAwaitPromise))
}

func TestPageFromAnotherOrigin_IsRefusedByDefault(t *testing.T) {
	browser := browsertest.Browser(t)
	dev := devServer(t)
	addr, _ := server(t, "127.0.0.1:0")
	tab := browsertest.Tab(t, browser)
	require.NoError(t, chromedp.Do(tab, chromedp.Navigate("http://"+dev+"/?server=ws://"+addr)))

	got, err := probe(tab, "ws://"+addr)
	require.NoError(t, err)
	assert.Equal(t, "refused", got)
	status, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.body.dataset.status`))
	require.NoError(t, err)
	assert.Equal(t, "connecting", status, "the page never connects")
}

func TestPageFromAnotherOrigin_WorksWhenItsOriginIsAllowed(t *testing.T) {
	browser := browsertest.Browser(t)
	dev := devServer(t)
	addr, _ := server(t, "127.0.0.1:0", dev)
	tab := open(t, browser, "http://"+dev+"/?name=Ann&server=ws://"+addr)

	require.NoError(t, say(tab, "from the dev server"))
	require.NoError(t, shows(tab, "Ann from the dev server"))
}
