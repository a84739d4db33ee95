package main

import (
	"context"
	"flag"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/internal/testsupport/browsertest"
	"github.com/zocket-go/zocket/internal/testsupport/wstest"
)

var screenshot = flag.Bool("screenshot", false, "save the drawing page as docs/draw.png")

// player opens the game page in a new tab and joins the room as name.
func player(t *testing.T, browser context.Context, url, name string) context.Context {
	t.Helper()
	tab := browsertest.Tab(t, browser)
	require.NoError(t, chromedp.Do(tab,
		chromedp.EmulateViewport(720, 420),
		chromedp.Navigate(url+"?name="+name+"#room-1"),
		chromedp.WaitVisible(chromedp.CSS(`body[data-status="connected"] #join`)),
	))
	require.NoError(t, run(tab, `document.querySelector("#join").requestSubmit()`))
	require.NoError(t, browsertest.Until(tab, `document.body.dataset.joined === "yes"`))
	return tab
}

func run(tab context.Context, js string) error {
	_, err := chromedp.Run(tab, chromedp.Evaluate[bool](js+`; true`))
	return err
}

// drawLine moves the pen across the canvas from (x0,y0) to (x1,y1).
func drawLine(tab context.Context, x0, y0, x1, y1 int) error {
	return run(tab, `{
		const c = document.querySelector("#canvas"), r = c.getBoundingClientRect();
		const pen = (type, x, y) => c.dispatchEvent(new PointerEvent(type, { clientX: r.left + x, clientY: r.top + y, pointerId: 1, bubbles: true }));
		pen("pointerdown", `+strconv.Itoa(x0)+`, `+strconv.Itoa(y0)+`);
		for (let i = 1; i <= 10; i++) pen("pointermove", `+strconv.Itoa(x0)+` + (`+strconv.Itoa(x1-x0)+`) * i / 10, `+strconv.Itoa(y0)+` + (`+strconv.Itoa(y1-y0)+`) * i / 10);
		pen("pointerup", `+strconv.Itoa(x1)+`, `+strconv.Itoa(y1)+`);
	}`)
}

func TestPage_AStrokeDrawnInOnePageAppearsInTheOther(t *testing.T) {
	browser := browsertest.Browser(t)
	url := "http://" + strings.TrimPrefix(wstest.Serve(t, serve), "ws://") + "/"
	ann := player(t, browser, url, "Ann")
	bob := player(t, browser, url, "Bob")

	require.NoError(t, run(ann, `document.querySelector("#start").click()`))
	for _, tab := range []context.Context{ann, bob} {
		require.NoError(t, browsertest.Until(tab, `document.body.dataset.phase === "drawing"`))
	}
	// Ann joined first: she draws the first round.
	require.NoError(t, drawLine(ann, 60, 60, 340, 240))

	require.NoError(t, browsertest.Until(bob, `document.querySelector("#canvas").dataset.strokes === "1"`))
	require.NoError(t, browsertest.Until(bob,
		`document.querySelector("#canvas").getContext("2d").getImageData(200, 150, 1, 1).data[3] > 0`),
		"the middle of Ann's line is painted on Bob's canvas")

	if *screenshot {
		require.NoError(t, drawLine(ann, 340, 60, 60, 240))
		require.NoError(t, browsertest.Until(bob, `document.querySelector("#canvas").dataset.strokes === "2"`))
		png, err := chromedp.Run(bob, chromedp.CaptureScreenshot())
		require.NoError(t, err)
		require.NoError(t, os.WriteFile("../../docs/draw.png", png, 0o644))
	}
}
