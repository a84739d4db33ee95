package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/examples/bench/benchapp"
	"github.com/zocket-go/zocket/internal/natsserver"
	"github.com/zocket-go/zocket/otelzocket"
	"github.com/zocket-go/zocket/transport/natscluster"
)

// addrs are where a running cluster listens.
type addrs struct {
	Gateway string   // ws:// URL, "" without the gateway role
	Health  string   // the first runtime's /health URL, "" without the runtime role
	Healths []string // every runtime's /health URL (-runtimes)
	Metrics string   // a /metrics URL, "" with -metrics=false
	NATS    string
}

// run starts cfg's roles and serves until ctx ends, then shuts down:
// the gateway closes its sockets (1001), the runtime stops consuming and
// closes its App (onDeactivate runs). ready, if set, learns the addresses.
func run(ctx context.Context, cfg config, log *slog.Logger, ready func(addrs)) (err error) {
	var cp *natscluster.ControlPlane
	if cfg.ControlPlane != "" {
		cp = &natscluster.ControlPlane{URL: cfg.ControlPlane, Token: cfg.Token}
	}
	runtime := cfg.Role == "runtime" || cfg.Role == "both"
	if runtime {
		defer func() { // best effort "failed" report, also for a missing DEPLOYMENT_ID
			if err != nil && cp != nil {
				if rerr := cp.Report(context.Background(), natscluster.RuntimeReport{DeploymentID: cfg.DeploymentID, Status: "failed", Message: err.Error()}); rerr != nil {
					log.Error("failed report not sent", "err", rerr)
				}
			}
		}()
		if cfg.DeploymentID == "" {
			return errors.New("DEPLOYMENT_ID is required with a control plane")
		}
	}

	var a addrs
	a.NATS = cfg.NATSURL
	if a.NATS == "" {
		dir := cfg.NATSDir
		if dir == "" {
			if dir, err = os.MkdirTemp("", "zocket-nats-*"); err != nil {
				return err
			}
			defer os.RemoveAll(dir)
		}
		srv, err := natsserver.Start(natsserver.Options{Port: cfg.NATSPort, StoreDir: dir})
		if err != nil {
			return fmt.Errorf("embedded NATS: %w", err)
		}
		defer func() { srv.Shutdown(); srv.WaitForShutdown() }()
		a.NATS = srv.ClientURL()
		log.Info("embedded NATS server", "url", a.NATS)
	}
	nc, err := nats.Connect(a.NATS, nats.Name("zocket-"+cfg.Role), nats.MaxReconnects(-1), nats.ReconnectWait(time.Second))
	if err != nil {
		return fmt.Errorf("connect to NATS: %w", err)
	}
	defer nc.Close()
	scope := natscluster.Namespace{WorkspaceID: cfg.WorkspaceID, ProjectID: cfg.ProjectID}

	var m *metrics // every port that serves /health serves /metrics too
	if cfg.Metrics {
		if m, err = newMetrics(); err != nil {
			return err
		}
		defer m.Close(context.Background())
	}

	var servers []*http.Server
	serve := func(port int, h http.Handler) (string, error) {
		ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(port)))
		if err != nil {
			return "", err
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, srv)
		go srv.Serve(ln)
		return ln.Addr().String(), nil
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, s := range servers {
			s.Shutdown(sctx)
		}
	}()

	if runtime {
		var actors []string
		for i := range cfg.Runtimes {
			rt, err := startRuntime(ctx, cfg, i, a.NATS, m, serve, log)
			if err != nil {
				return err
			}
			defer func() { err = errors.Join(err, rt.stop()) }()
			a.Healths, actors = append(a.Healths, rt.health), rt.actors
		}
		a.Health = a.Healths[0]
		if m != nil {
			a.Metrics = strings.TrimSuffix(a.Health, "/health") + "/metrics"
		}
		if cp != nil {
			if err := cp.Report(ctx, natscluster.RuntimeReport{DeploymentID: cfg.DeploymentID, Status: "ready", ActorTypes: actors}); err != nil {
				return err
			}
		}
	}
	if cfg.Role == "gateway" || cfg.Role == "both" {
		var auth natscluster.Authorizer = natscluster.StaticAuthorizer{Namespace: scope}
		if cp != nil {
			auth = &natscluster.HTTPAuthorizer{URL: cfg.ControlPlane, Token: cfg.Token}
		}
		gOpts := natscluster.GatewayOptions{Authorizer: auth, Logger: log, OriginPatterns: cfg.Origins, PerSessionOutbound: cfg.PerSession}
		if m != nil {
			gOpts.Observer = m.obs
		}
		g, err := natscluster.NewGateway(ctx, nc, gOpts)
		if err != nil {
			return err
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			g.Shutdown(sctx)
		}()
		var h http.Handler = g
		if m != nil {
			defer m.obs.WatchQueues(g.Queues, otelzocket.KeyTransport.String("gateway"))()
			mux := http.NewServeMux()
			mux.Handle("GET /metrics", m.handler)
			mux.Handle("/", g)
			h = mux
		}
		addr, err := serve(cfg.Port, h)
		if err != nil {
			return err
		}
		a.Gateway = "ws://" + addr
		if m != nil {
			a.Metrics = "http://" + addr + "/metrics"
		}
		log.Info("gateway listening", "url", a.Gateway)
	}
	if ready != nil {
		ready(a)
	}
	<-ctx.Done()
	return nil
}

// runtimeRole is one started runtime of examples/cluster.
type runtimeRole struct {
	stop   func() error // stops the runtime, then closes its App and storage
	health string       // its /health URL
	actors []string     // its actor types
}

// startRuntime starts runtime i of cfg.Runtimes: its own NATS connection,
// storage and App, and its /health (and /metrics) on cfg.APIPort+i (any
// port when cfg.APIPort is 0).
func startRuntime(ctx context.Context, cfg config, i int, natsURL string, m *metrics,
	serve func(int, http.Handler) (string, error), log *slog.Logger) (_ runtimeRole, err error) {
	var undo []func() error
	stop := func() error {
		var err error
		for k := len(undo) - 1; k >= 0; k-- {
			err = errors.Join(err, undo[k]())
		}
		return err
	}
	defer func() {
		if err != nil {
			stop()
		}
	}()
	nc, err := nats.Connect(natsURL, nats.Name("zocket-runtime-"+strconv.Itoa(i)), nats.MaxReconnects(-1), nats.ReconnectWait(time.Second))
	if err != nil {
		return runtimeRole{}, fmt.Errorf("connect to NATS: %w", err)
	}
	undo = append(undo, func() error { nc.Close(); return nil })
	if cfg.Runtimes > 1 {
		log = log.With("runtime", i)
	}
	appOpts := []zocket.Option{zocket.WithLogger(log)}
	store, err := openStorage(ctx, cfg.Storage, nc, log)
	if err != nil {
		return runtimeRole{}, err
	}
	if store != nil {
		undo = append(undo, store.Close) // after the App's last writes
		appOpts = append(appOpts, zocket.WithStorage(store))
	}
	scope := natscluster.Namespace{WorkspaceID: cfg.WorkspaceID, ProjectID: cfg.ProjectID}
	rtOpts := natscluster.RuntimeOptions{Namespace: scope, DeploymentID: cfg.DeploymentID, Logger: log, Partitions: cfg.Partitions}
	if m != nil {
		appOpts = append(appOpts, zocket.WithObserver(m.obs))
		rtOpts.Observer = m.obs
	}
	app := benchapp.NewApp(appOpts...)
	if m != nil {
		unwatch := m.obs.WatchMailboxes(app)
		undo = append(undo, func() error { unwatch(); return nil })
	}
	rt, err := natscluster.NewRuntime(nc, app, rtOpts)
	if err != nil {
		return runtimeRole{}, err
	}
	if err := rt.Start(ctx); err != nil {
		return runtimeRole{}, err
	}
	undo = append(undo, func() error {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return errors.Join(rt.Stop(sctx), app.Close(sctx))
	})
	mux := http.NewServeMux()
	mux.Handle("GET /health", rt.HealthHandler())
	if m != nil {
		mux.Handle("GET /metrics", m.handler)
	}
	port := cfg.APIPort
	if port != 0 {
		port += i
	}
	addr, err := serve(port, mux)
	if err != nil {
		return runtimeRole{}, err
	}
	health := "http://" + addr + "/health"
	log.Info("runtime ready", "health", health, "actors", app.ActorNames(), "namespace", scope, "partitions", cfg.Partitions)
	return runtimeRole{stop: stop, health: health, actors: app.ActorNames()}, nil
}
