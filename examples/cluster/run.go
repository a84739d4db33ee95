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
	Gateway string // ws:// URL, "" without the gateway role
	Health  string // runtime /health URL, "" without the runtime role
	Metrics string // a /metrics URL, "" with -metrics=false
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
		appOpts := []zocket.Option{zocket.WithLogger(log)}
		store, err := openStorage(ctx, cfg.Storage, nc, log)
		if err != nil {
			return err
		}
		if store != nil {
			defer func() { err = errors.Join(err, store.Close()) }() // after the App's last writes (deferred below)
			appOpts = append(appOpts, zocket.WithStorage(store))
		}
		rtOpts := natscluster.RuntimeOptions{Namespace: scope, DeploymentID: cfg.DeploymentID, Logger: log}
		if m != nil {
			appOpts = append(appOpts, zocket.WithObserver(m.obs))
			rtOpts.Observer = m.obs
		}
		app := benchapp.NewApp(appOpts...)
		if m != nil {
			defer m.obs.WatchMailboxes(app)()
		}
		rt, err := natscluster.NewRuntime(nc, app, rtOpts)
		if err != nil {
			return err
		}
		if err := rt.Start(ctx); err != nil {
			return err
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = errors.Join(err, rt.Stop(sctx), app.Close(sctx))
		}()
		if cp != nil {
			if err := cp.Report(ctx, natscluster.RuntimeReport{DeploymentID: cfg.DeploymentID, Status: "ready", ActorTypes: app.ActorNames()}); err != nil {
				return err
			}
		}
		mux := http.NewServeMux()
		mux.Handle("GET /health", rt.HealthHandler())
		if m != nil {
			mux.Handle("GET /metrics", m.handler)
		}
		addr, err := serve(cfg.APIPort, mux)
		if err != nil {
			return err
		}
		a.Health = "http://" + addr + "/health"
		if m != nil {
			a.Metrics = "http://" + addr + "/metrics"
		}
		log.Info("runtime ready", "health", a.Health, "actors", app.ActorNames(), "namespace", scope)
	}
	if cfg.Role == "gateway" || cfg.Role == "both" {
		var auth natscluster.Authorizer = natscluster.StaticAuthorizer{Namespace: scope}
		if cp != nil {
			auth = &natscluster.HTTPAuthorizer{URL: cfg.ControlPlane, Token: cfg.Token}
		}
		gOpts := natscluster.GatewayOptions{Authorizer: auth, Logger: log, OriginPatterns: cfg.Origins}
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
