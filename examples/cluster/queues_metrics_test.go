package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/zocket-go/zocket/internal/testsupport/wstest"
)

// The gateway's /metrics reports its open connections and their outbound
// queues, one series for the gateway, none per connection.
func TestMetricsEndpointReportsTheGatewaysConnectionsAndOutboundQueues(t *testing.T) {
	a := start(t, testConfig(t))
	c := wstest.DialWelcome(t, a.Gateway)
	assert.Equal(t, 1.0, c.MustCall("counter", "a", "increment", nil))

	body := scrape(t, a.Metrics)
	assert.Regexp(t, `zocket_connections\{[^}]*zocket_transport="gateway"[^}]*\} 1\n`, body)
	for _, name := range []string{"frames", "bytes", "max_frames", "max_bytes"} {
		assert.Regexp(t, `zocket_outbound_queue_`+name+`(_bytes)?\{[^}]*zocket_transport="gateway"[^}]*\} \d+\n`, body, name)
	}
}
