// Command agent serves an AI-agent session actor ("agent", with
// "agentStop" and "tools") whose model streams its answer into the
// session's state and to the caller, and calls a tool that is another
// actor. On the same port: a page at / (open it in two tabs: both watch
// the same answer stream), and /api/chat for the AI SDK's useChat().
//
//	go run ./examples/agent                      # a scripted model: nothing to install
//	OPENAI_API_KEY=… go run ./examples/agent -model openai
//	OPENAI_BASE_URL=http://127.0.0.1:11434/v1 go run ./examples/agent -model openai -model-name llama3.2
//	ANTHROPIC_API_KEY=… go run ./examples/agent -model anthropic
//
// A React page served elsewhere points useChat at it:
//
//	useChat({ transport: new DefaultChatTransport({ api: "http://127.0.0.1:3000/api/chat" }) })
//
// (run with -origins for a page of another origin over WebSocket; the
// HTTP endpoint sets no CORS headers: put it behind your dev server's
// proxy). POST /api/chat/{id}/stop stops a session's answer.
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	openaiopt "github.com/openai/openai-go/v3/option"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/ai"
	"github.com/zocket-go/zocket/ai/anthropic"
	"github.com/zocket-go/zocket/ai/openai"
	"github.com/zocket-go/zocket/examples/agent/agent"
	"github.com/zocket-go/zocket/examples/internal/exampleserver"
	"github.com/zocket-go/zocket/transport/wshttp"
)

var (
	model     = flag.String("model", "fake", "the model: fake (scripted, nothing to install), openai (OPENAI_API_KEY; OPENAI_BASE_URL for a compatible server) or anthropic (ANTHROPIC_API_KEY)")
	modelName = flag.String("model-name", "", "the provider's model name (default gpt-4o-mini for openai, claude-haiku-4-5 for anthropic)")
)

func main() { exampleserver.Main("agent", serve) }

func serve(ctx context.Context, ln net.Listener, log *slog.Logger) error {
	p, err := provider(*model, *modelName, os.Getenv)
	if err != nil {
		return err
	}
	log.Info("agent model", "provider", *model)
	return serveWith(ctx, ln, log, p)
}

// errNoKey is the error of a provider chosen without its API key.
var errNoKey = errors.New("no API key")

// provider returns the model kind names, configured from the environment.
func provider(kind, name string, env func(string) string) (ai.Provider, error) {
	switch kind {
	case "fake":
		return agent.Fake(40 * time.Millisecond), nil
	case "openai":
		if env("OPENAI_API_KEY") == "" && env("OPENAI_BASE_URL") == "" {
			return nil, fmt.Errorf("-model openai: %w: set OPENAI_API_KEY (or OPENAI_BASE_URL for a local server)", errNoKey)
		}
		var opts []openaiopt.RequestOption
		if env("OPENAI_API_KEY") == "" {
			opts = append(opts, openaiopt.WithAPIKey("local")) // local servers want no key, the SDK wants one
		}
		return openai.New(cmp.Or(name, "gpt-4o-mini"), opts...), nil
	case "anthropic":
		if env("ANTHROPIC_API_KEY") == "" {
			return nil, fmt.Errorf("-model anthropic: %w: set ANTHROPIC_API_KEY", errNoKey)
		}
		return anthropic.New(cmp.Or(name, "claude-haiku-4-5")), nil
	}
	return nil, fmt.Errorf("-model %q: want fake, openai or anthropic", kind)
}

func serveWith(ctx context.Context, ln net.Listener, log *slog.Logger, p ai.Provider) error {
	ag := agent.New(p, 10*time.Minute)
	app := zocket.NewApp(zocket.WithLogger(log)).
		Register("agent", ag.Actor()).
		Register("agentStop", ag.StopActor()).
		Register("tools", agent.Tools())
	defer func() { // after the server stops
		ag.AI.StopAll(app) // answers asked over HTTP run with contexts Close does not cancel
		_ = app.Close(context.Background())
	}()
	ws, err := wshttp.New(zocket.NewHandler(app), wshttp.Options{Logger: log, OriginPatterns: exampleserver.Origins(ctx)})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/api/chat", ai.ChatHandler(app, "agent", ag.Send, ai.ChatOptions{}))
	mux.HandleFunc("POST /api/chat/{id}/stop", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(ai.Stopped{Stopped: ag.AI.Stop(app, r.PathValue("id"))})
	})
	mux.Handle("/", exampleserver.Site(ws, pages()))
	log.Info("agent page: open it in two browser tabs", "url", "http://"+ln.Addr().String())
	return ws.Serve(ctx, ln, mux)
}
