// Package exampleserver is the little bit of main shared by the examples:
// flags, logging, signals, serving.
package exampleserver

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
)

// Main parses -addr (default 127.0.0.1:3000, or 127.0.0.1:$PORT when PORT
// is set) and -origins (see Origins), listens, and calls serve until SIGINT
// or SIGTERM.
func Main(name string, serve func(ctx context.Context, ln net.Listener, log *slog.Logger) error) {
	def := "127.0.0.1:3000"
	if p := os.Getenv("PORT"); p != "" {
		def = "127.0.0.1:" + p
	}
	addr := flag.String("addr", def, "listen address")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file until exit")
	memprofile := flag.String("memprofile", "", "write a heap profile to this file at SIGINT or SIGTERM, before shutting down")
	origins := flag.String("origins", "", "comma-separated host patterns (path.Match syntax, e.g. localhost:5173) of other origins whose pages may connect")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(WithOrigins(context.Background(), splitList(*origins)), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
	log.Info(name+" listening", "url", "ws://"+ln.Addr().String())
	if *memprofile != "" {
		runtime.MemProfileRate = 256 // fine-grained: per-connection costs are small
		ctx = heapProfileAtEnd(ctx, *memprofile, log)
	}
	if err := serve(ctx, ln, log); err != nil && ctx.Err() == nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// heapProfileAtEnd writes a heap profile to file when ctx ends, while the
// connections are still open; the returned context ends after that.
func heapProfileAtEnd(ctx context.Context, file string, log *slog.Logger) context.Context {
	after, cancel := context.WithCancel(context.Background())
	context.AfterFunc(ctx, func() {
		defer cancel()
		f, err := os.Create(file)
		if err == nil {
			err = errors.Join(pprof.Lookup("heap").WriteTo(f, 0), f.Close())
		}
		if err != nil {
			log.Error("heap profile not written", "err", err)
		}
	})
	return after
}
