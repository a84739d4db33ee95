package inspector_test

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/internal/testsupport/browsertest"
)

// row is the JS expression of the instances table's row of counter/id,
// undefined while it is not listed.
func row(id string) string {
	return `[...document.querySelectorAll("#instances tbody tr")].find((r) => r.dataset.actor === "counter" && r.dataset.id === ` +
		browsertest.Quote(id) + `)`
}

// shownState is the JS expression of the watched state's n.
const shownState = `JSON.parse(document.getElementById("state").textContent || "null")?.n`

// openPage opens the inspector's page, with the token in its URL, in a
// new tab of a headless browser.
func openPage(t *testing.T, s *served) context.Context {
	t.Helper()
	tab := browsertest.Tab(t, browsertest.Browser(t))
	require.NoError(t, chromedp.Do(tab, chromedp.Navigate(s.url+"/inspect/?token="+token)))
	return tab
}

func TestPage_ListsInstancesAndFollowsTheChosenOnesStateThroughZocket(t *testing.T) {
	s := serve(t)
	require.NoError(t, s.invoke(t, "a", "add", 1))
	tab := openPage(t, s)

	require.NoError(t, browsertest.Until(tab, `(`+row("a")+`)?.cells[7].textContent === "add"`), "listed with its last call")
	require.NoError(t, browsertest.Until(tab, `[...document.querySelectorAll("#methods tbody td")].some((td) => td.textContent === "add")`),
		"the method's statistics are shown")
	_, err := chromedp.Run(tab, chromedp.Evaluate[bool](`(`+row("a")+`).querySelector("button").click(); true`))
	require.NoError(t, err)
	require.NoError(t, browsertest.Until(tab, shownState+` === 1`), "the snapshot from state:sub")
	require.NoError(t, browsertest.Until(tab, `(`+row("a")+`)?.cells[2].textContent === "1"`), "the page's socket is a state subscriber")

	require.NoError(t, s.invoke(t, "a", "add", 41))
	require.NoError(t, browsertest.Until(tab, shownState+` === 42`), "a patch, as it was published")
}

func TestPage_ShowsIdsAsTextNeverAsMarkup(t *testing.T) {
	s := serve(t)
	const id = `<b id="injected">x</b><img src=x onerror="document.title='pwned'">`
	require.NoError(t, s.invoke(t, id, "add", 1))
	tab := openPage(t, s)

	require.NoError(t, browsertest.Until(tab, `(`+row(id)+`)?.cells[1].textContent === `+browsertest.Quote(id)))
	_, err := chromedp.Run(tab, chromedp.Evaluate[bool](`(`+row(id)+`).querySelector("button").click(); true`))
	require.NoError(t, err)
	require.NoError(t, browsertest.Until(tab, shownState+` === 1`))
	got, err := chromedp.Run(tab, chromedp.Evaluate[[]any](
		`[document.getElementById("injected"), document.querySelector("#instances img"), document.title,
		  document.getElementById("watched").textContent]`))
	require.NoError(t, err)
	require.Equal(t, []any{nil, nil, "zocket inspector", "counter / " + id}, got)
}
