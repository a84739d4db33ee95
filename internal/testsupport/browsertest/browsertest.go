// Package browsertest runs web pages in a headless Chromium for tests,
// through chromedp.
package browsertest

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// tabDeadline bounds everything a test does in one tab, so that a page
// that never reaches an awaited condition fails the test instead of
// hanging it.
const tabDeadline = 2 * time.Minute

// Browser starts a headless Chromium, stopped when the test ends, and
// returns its chromedp context. Without a Chromium the test is skipped,
// unless the environment has CI=true: then it fails, because CI must run
// the browser tests.
func Browser(t testing.TB) context.Context {
	t.Helper()
	path := execPath()
	if path == "" {
		const msg = "no Chromium found (install the Debian package chromium, or Google Chrome)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + ": CI must run the browser tests")
		}
		t.Skip(msg + ": browser test skipped")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start %s: %v", path, err)
	}
	return ctx
}

// Tab opens a new tab of browser, closed when the test ends. Its context
// has a deadline (minutes): waits on page conditions are bounded.
func Tab(t testing.TB, browser context.Context) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(tab); err != nil { // opens the tab
		t.Fatalf("open tab: %v", err)
	}
	ctx, cancelDeadline := context.WithTimeout(tab, tabDeadline)
	t.Cleanup(cancelDeadline)
	return ctx
}

// execPath finds the browser, or returns "".
func execPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Until waits until the JavaScript condition holds in the tab's page (it
// is checked every 20ms), or the tab's deadline passes.
func Until(tab context.Context, condition string) error {
	_, err := chromedp.Run(tab, chromedp.Poll[chromedp.Void](condition, chromedp.WithPollingInterval(20*time.Millisecond)))
	return err
}

// Quote returns s as a JavaScript string literal.
func Quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
