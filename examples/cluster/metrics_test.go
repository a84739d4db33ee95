package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/internal/testsupport/wstest"
)

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

// Prometheus scrapes /metrics over HTTP on the gateway's port and on the
// runtime's API port: the call made through the cluster is counted.
func TestMetricsEndpointServesZocketMetricsInPrometheusFormat(t *testing.T) {
	a := start(t, testConfig(t))
	c := wstest.DialWelcome(t, a.Gateway)
	assert.Equal(t, 1.0, c.MustCall("counter", "a", "increment", nil))

	for _, url := range []string{a.Metrics, strings.Replace(a.Health, "/health", "/metrics", 1)} {
		body := scrape(t, url)
		assert.Contains(t, body, `zocket_calls_total{`, url)
		assert.Regexp(t, `zocket_calls_total\{[^}]*zocket_actor="counter"[^}]*zocket_method="increment"[^}]*\} 1`, body, url)
		assert.Contains(t, body, `zocket_mailbox_depth{`, url)
	}
}

func TestMetricsOff_ServesNoMetrics(t *testing.T) {
	a := start(t, testConfig(t, "-metrics=false"))
	assert.Empty(t, a.Metrics)
	resp, err := http.Get(strings.Replace(a.Health, "/health", "/metrics", 1))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}
