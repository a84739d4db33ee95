// Command cluster runs zocket's distributed mode (transport/natscluster): a
// gateway, a runtime, or both, connected by NATS JetStream. By default it
// runs both with a NATS server embedded in the process, so that
//
//	go run ./examples/cluster
//
// works on a fresh machine; -nats URL (or NATS_URL) uses an external server.
// The runtime hosts the load generator's actors (counter, chat, big), so
// the load generator (examples/loadgen) can measure the cluster:
//
//	go run ./examples/cluster -role both -port 3000
//	go run ./examples/loadgen rtt -url ws://127.0.0.1:3000
//
// -addr host:port sets the gateway's listen address (default
// 127.0.0.1:3000), like every example; -host and -port set its parts.
//
// Environment (flags take precedence): PORT (gateway, default 3000),
// NATS_URL, CONTROL_PLANE_URL and CONTROL_PLANE_INTERNAL_TOKEN (the
// gateway authorizes through /api/registry/authorize and the runtime
// reports to /api/internal/runtime/report when a control plane is set;
// without one every client is admitted into WORKSPACE_ID/PROJECT_ID),
// WORKSPACE_ID and PROJECT_ID (default local-workspace, local-project),
// DEPLOYMENT_ID (required with a control plane; "local" otherwise) and
// API_PORT (runtime /health, default 8080).
//
// State: the runtime's actors are durable (zocket.WithStorage): their
// state is kept in NATS JetStream by storage/natsstore, so it survives a
// restart of the runtime, or a move to another runtime on the same NATS.
// The embedded NATS server keeps its files in a temporary directory
// removed at exit, so state outlives the runtime role but not the
// process, unless -nats-dir DIR names a directory to keep (or -nats an
// external server). -storage=memory keeps state in the runtime's memory
// only, as for a benchmark of the transport alone. (The big actor, which
// measures patches rather than storage, is ephemeral either way.)
//
// Metrics: the gateway's port and the runtime's API port serve /metrics,
// in Prometheus's text format, next to /health: package otelzocket's
// metrics (calls, their durations, mailbox depths, the gateway's
// connections and outbound queues, JetStream publish-to-ack times, slow
// consumers, …) through the OpenTelemetry Prometheus exporter.
// -metrics=false runs without an observer, as for a benchmark.
//
// Actors are compiled in: the TypeScript runtime's bundle download
// (/api/internal/runtime/active) has no Go counterpart.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
)

func main() {
	cfg, err := parseConfig(os.Args[1:], os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if cfg.CPUProfile != "" {
		f, err := os.Create(cfg.CPUProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "cluster:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, log, nil); err != nil {
		log.Error("cluster failed", "err", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// config is the command line and environment, resolved.
type config struct {
	Role         string // gateway, runtime or both
	Host         string
	Port         int
	APIPort      int
	NATSURL      string // "" runs an embedded server
	NATSPort     int    // embedded server's port; 0 picks one
	NATSDir      string // embedded server's files; "" for a temporary directory
	ControlPlane string
	Token        string
	WorkspaceID  string
	ProjectID    string
	DeploymentID string
	CPUProfile   string
	Storage      string   // where the runtime keeps state: jetstream or memory
	PerSession   bool     // the gateway reads per-session OUTBOUND subjects (TypeScript runtimes)
	Runtimes     int      // runtimes in this process
	Partitions   int      // INBOUND partitions; 0: one consumer per actor type
	Metrics      bool     // serve /metrics (OpenTelemetry, Prometheus format)
	Origins      []string // the gateway's OriginPatterns; none admits every origin
}

// parseConfig reads flags over environment variables over defaults.
func parseConfig(args []string, getenv func(string) string) (config, error) {
	env := func(key, def string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return def
	}
	envInt := func(key string, def int) int {
		var n int
		if _, err := fmt.Sscan(env(key, fmt.Sprint(def)), &n); err != nil {
			return def
		}
		return n
	}
	var c config
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	fs.StringVar(&c.Role, "role", "both", "gateway, runtime or both")
	fs.StringVar(&c.Host, "host", "127.0.0.1", "interface to listen on")
	fs.IntVar(&c.Port, "port", envInt("PORT", 3000), "gateway WebSocket port (PORT)")
	origins := fs.String("origins", "", "comma-separated origin patterns the gateway admits (default: every origin, as the TypeScript gateway)")
	addr := fs.String("addr", "", "gateway listen address host:port (overrides -host and -port)")
	fs.IntVar(&c.APIPort, "api-port", envInt("API_PORT", 8080), "runtime /health port (API_PORT)")
	fs.StringVar(&c.NATSURL, "nats", getenv("NATS_URL"), "NATS server URL (NATS_URL); empty embeds one")
	fs.IntVar(&c.NATSPort, "nats-port", 4222, "port of the embedded NATS server (0: any)")
	fs.StringVar(&c.NATSDir, "nats-dir", "", "directory of the embedded NATS server's files, kept across runs (default: a temporary one, removed at exit)")
	fs.StringVar(&c.ControlPlane, "control-plane", getenv("CONTROL_PLANE_URL"), "control plane URL (CONTROL_PLANE_URL)")
	fs.StringVar(&c.Token, "token", env("CONTROL_PLANE_INTERNAL_TOKEN", "zocket-internal-dev-token"), "control plane bearer token (CONTROL_PLANE_INTERNAL_TOKEN)")
	fs.StringVar(&c.WorkspaceID, "workspace", env("WORKSPACE_ID", "local-workspace"), "workspace id (WORKSPACE_ID)")
	fs.StringVar(&c.ProjectID, "project", env("PROJECT_ID", "local-project"), "project id (PROJECT_ID)")
	fs.StringVar(&c.DeploymentID, "deployment", getenv("DEPLOYMENT_ID"), "deployment id (DEPLOYMENT_ID)")
	fs.BoolVar(&c.Metrics, "metrics", true, "serve Prometheus /metrics next to each /health (false: no observer at all)")
	fs.StringVar(&c.Storage, "storage", storageJetStream, "where the runtime keeps its actors' state: jetstream (durable, in NATS) or memory (lost when the runtime stops)")
	fs.BoolVar(&c.PerSession, "per-session-outbound", false, "the gateway reads one OUTBOUND subject per session, as TypeScript runtimes publish (default: one per gateway, for Go runtimes)")
	fs.IntVar(&c.Runtimes, "runtimes", 1, "runtimes in this process, each with its own NATS connection, App and /health port (api-port, api-port+1, ...)")
	fs.IntVar(&c.Partitions, "partitions", 0, "INBOUND partitions shared out among the runtimes (default: 32 with -runtimes above 1, else none: one consumer per actor type); runtimes in other processes must use the same count")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "write a CPU profile (NATS server included) to this file until exit")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if *origins != "" {
		c.Origins = strings.Split(*origins, ",")
	}
	if *addr != "" {
		host, port, err := net.SplitHostPort(*addr)
		if err != nil {
			return c, fmt.Errorf("-addr: %w", err)
		}
		if c.Port, err = strconv.Atoi(port); err != nil {
			return c, fmt.Errorf("-addr: port %q is not a number", port)
		}
		c.Host = host
	}
	switch c.Role {
	case "gateway", "runtime", "both":
	default:
		return c, fmt.Errorf("-role must be gateway, runtime or both, not %q", c.Role)
	}
	if c.Storage != storageJetStream && c.Storage != storageMemory {
		return c, fmt.Errorf("-storage must be %s or %s, not %q", storageJetStream, storageMemory, c.Storage)
	}
	if c.Runtimes < 1 {
		return c, fmt.Errorf("-runtimes must be at least 1, not %d", c.Runtimes)
	}
	if c.Partitions < 0 {
		return c, fmt.Errorf("-partitions must not be negative, not %d", c.Partitions)
	}
	if c.Runtimes > 1 && c.Partitions == 0 {
		c.Partitions = 32
	}
	if c.Partitions > 0 && c.Storage == storageMemory {
		return c, errors.New("-storage=memory cannot be shared by several runtimes: with -partitions or -runtimes above 1 an instance moves between runtimes and must find its state in JetStream")
	}
	if c.DeploymentID == "" && c.ControlPlane == "" {
		c.DeploymentID = "local"
	}
	return c, nil
}
