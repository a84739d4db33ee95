package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/internal/testsupport/wstest"
)

// start runs the cluster with cfg until the test ends.
func start(t *testing.T, cfg config) addrs {
	t.Helper()
	a, _ := startStoppable(t, cfg)
	return a
}

// startStoppable runs the cluster with cfg until stop, which waits for it
// to shut down, or until the test ends.
func startStoppable(t *testing.T, cfg config) (a addrs, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan addrs, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, slog.New(slog.DiscardHandler), func(a addrs) { got <- a }) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(15 * time.Second):
			t.Error("cluster did not stop")
		}
	}
	t.Cleanup(stop)
	select {
	case a = <-got:
		return a, stop
	case err := <-done:
		t.Fatalf("cluster did not start: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("cluster did not start")
	}
	return addrs{}, stop
}

func testConfig(t *testing.T, args ...string) config {
	t.Helper()
	cfg, err := parseConfig(append([]string{"-port", "0", "-api-port", "0", "-nats-port", "0"}, args...), func(string) string { return "" })
	require.NoError(t, err)
	return cfg
}

// The default: gateway and runtime in one process with embedded NATS,
// serving the load generator's actors.
func TestBothRolesWithEmbeddedNATS(t *testing.T) {
	a := start(t, testConfig(t))
	c := wstest.DialWelcome(t, a.Gateway)
	assert.Len(t, c.ClientID, 36)
	assert.Equal(t, 1.0, c.MustCall("counter", "a", "increment", nil))
	assert.Equal(t, 3.0, c.MustCall("counter", "a", "add", map[string]any{"amount": 2}))

	resp, err := http.Get(a.Health)
	require.NoError(t, err)
	defer resp.Body.Close()
	var h map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&h))
	assert.Equal(t, true, h["ok"])
	assert.Equal(t, "local", h["deploymentId"])
	assert.Equal(t, "local-workspace", h["workspaceId"])
}

// Gateway and runtime as separate roles on one external NATS (here the
// first process's embedded one), with a control plane that authorizes and
// receives the runtime's report.
func TestSeparateRolesWithAControlPlane(t *testing.T) {
	reports := make(chan string, 4)
	cp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/api/registry/authorize":
			io.WriteString(w, `{"workspaceId":"ws-9","projectId":"prj-9","userId":"u9","claims":{}}`)
		case "/api/internal/runtime/report":
			reports <- string(b)
		}
	}))
	defer cp.Close()
	natsHost := start(t, testConfig(t, "-role", "gateway", "-workspace", "ws-9", "-project", "prj-9"))
	rt := start(t, testConfig(t, "-role", "runtime", "-nats", natsHost.NATS, "-control-plane", cp.URL,
		"-workspace", "ws-9", "-project", "prj-9", "-deployment", "dpl_9"))
	assert.JSONEq(t, `{"deploymentId":"dpl_9","status":"ready","actorTypes":["big","chat","counter"]}`, <-reports)
	assert.NotEmpty(t, rt.Health)

	gw := start(t, testConfig(t, "-role", "gateway", "-nats", natsHost.NATS, "-control-plane", cp.URL))
	c := wstest.DialWelcome(t, gw.Gateway)
	assert.Equal(t, 1.0, c.MustCall("counter", "x", "increment", nil))
}

// Without DEPLOYMENT_ID a runtime with a control plane fails, and says so
// to the control plane first.
func TestMissingDeploymentIDIsReported(t *testing.T) {
	reports := make(chan string, 1)
	cp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		reports <- string(b)
	}))
	defer cp.Close()
	err := run(t.Context(), testConfig(t, "-role", "runtime", "-control-plane", cp.URL), slog.New(slog.DiscardHandler), nil)
	assert.ErrorContains(t, err, "DEPLOYMENT_ID is required")
	assert.JSONEq(t, `{"deploymentId":"","status":"failed","message":"DEPLOYMENT_ID is required with a control plane"}`, <-reports)
}

func TestFlagsOverEnvironment(t *testing.T) {
	env := map[string]string{"PORT": "4000", "NATS_URL": "nats://env:4222", "WORKSPACE_ID": "w-env", "API_PORT": "9000"}
	cfg, err := parseConfig([]string{"-port", "5000"}, func(k string) string { return env[k] })
	require.NoError(t, err)
	assert.Equal(t, 5000, cfg.Port)
	assert.Equal(t, 9000, cfg.APIPort)
	assert.Equal(t, "nats://env:4222", cfg.NATSURL)
	assert.Equal(t, "w-env", cfg.WorkspaceID)
	_, err = parseConfig([]string{"-role", "nope"}, func(string) string { return "" })
	assert.Error(t, err)
}

func TestAddrAndOriginsConfigureTheGateway(t *testing.T) {
	cfg, err := parseConfig([]string{"-addr", "0.0.0.0:4100"}, func(k string) string { return map[string]string{"PORT": "4000"}[k] })
	require.NoError(t, err)
	assert.Equal(t, "0.0.0.0", cfg.Host)
	assert.Equal(t, 4100, cfg.Port)
	cfg, err = parseConfig([]string{"-origins", "localhost:5173,*.example.com"}, func(string) string { return "" })
	require.NoError(t, err)
	assert.Equal(t, []string{"localhost:5173", "*.example.com"}, cfg.Origins)
	_, err = parseConfig([]string{"-addr", "no-port"}, func(string) string { return "" })
	assert.ErrorContains(t, err, "-addr")
}
