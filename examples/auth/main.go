// Command auth is the authentication guide in Go. The WebSocket transport's
// authentication hook verifies a signed token from the query string
// (ws://host/?token=…; standard library HMAC, see token.go) and attaches
// the identity to the connection; middleware turns the identity into a typed
// context; an admin-only method rejects other roles with "Forbidden"; and a
// /health route is served beside the WebSocket endpoint on the same mux.
//
//	AUTH_SECRET=change-me go run ./examples/auth
//
// It logs a member and an admin token for trying it out.
package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/examples/internal/exampleserver"
	"github.com/zocket-go/zocket/transport/wscore"
	"github.com/zocket-go/zocket/transport/wshttp"
)

// User is the typed middleware context every handler of the notes actor sees.
type User struct {
	ID   string `json:"id"`
	Role string `json:"role"`
}

// Note is one note.
type Note struct {
	Author string `json:"author,omitempty"` // set by the server: optional in input
	Text   string `json:"text" validate:"required,max=500"`
}

// Board is the shared notes board.
type Board struct {
	Notes []Note `json:"notes"`
}

// authed turns the transport identity into a User; anonymous callers are
// rejected (they cannot connect at all here, but App.Invoke could).
var authed = zocket.Use(func(_ context.Context, r zocket.Request[zocket.NoData]) (User, error) {
	if r.Identity.UserID == "" {
		return User{}, errors.New("Unauthorized")
	}
	role, _ := r.Identity.Claims["role"].(string)
	return User{ID: r.Identity.UserID, Role: role}, nil
})

// addNote is open to every signed-in user.
var addNote = zocket.Method("addNote", func(c *zocket.Context[Board, User], in Note) (int, error) {
	c.State.Notes = append(c.State.Notes, Note{Author: c.Data.ID, Text: in.Text})
	return len(c.State.Notes), nil
})

var whoAmI = zocket.MethodNoInput("whoAmI", func(c *zocket.Context[Board, User]) (User, error) {
	return c.Data, nil
})

// clearBoard is admin-only: its guard answers other roles "Forbidden"
// before the handler runs.
var clearBoard = zocket.MethodNoIO("clear", func(c *zocket.Context[Board, User]) error {
	c.State.Notes = nil
	return nil
}).Guard(adminOnly)

// adminOnly is a per-method check; it sees the User that authed built.
func adminOnly(_ context.Context, r zocket.Request[User]) error {
	if r.Data.Role != "admin" {
		return errors.New("Forbidden")
	}
	return nil
}

func newApp(log *slog.Logger) *zocket.App {
	return zocket.NewApp(zocket.WithLogger(log)).
		Register("board", zocket.NewActorWith[Board](authed).Methods(addNote, whoAmI, clearBoard))
}

// authenticate is the transport hook: no valid token, no upgrade.
func authenticate(secret []byte) func(*http.Request) (zocket.Identity, error) {
	return func(r *http.Request) (zocket.Identity, error) {
		c, err := Verify(secret, r.URL.Query().Get("token"), time.Now())
		if err != nil {
			return zocket.Identity{}, &wscore.HTTPError{Status: http.StatusUnauthorized, Message: err.Error()}
		}
		return zocket.Identity{UserID: c.Sub, Claims: map[string]any{"role": c.Role}}, nil
	}
}

func secretFromEnv() []byte {
	if s := os.Getenv("AUTH_SECRET"); s != "" {
		return []byte(s)
	}
	return []byte("dev-secret-change-me")
}

func main() { exampleserver.Main("auth", serve) }

func serve(ctx context.Context, ln net.Listener, log *slog.Logger) error {
	secret := secretFromEnv()
	app := newApp(log)
	defer app.Close(context.Background()) // after the server stops: onDeactivate runs
	ws, err := wshttp.New(zocket.NewHandler(app), wshttp.Options{Logger: log, Authenticate: authenticate(secret), OriginPatterns: exampleserver.Origins(ctx)})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	})
	mux.Handle("/", ws)

	exp := time.Now().Add(24 * time.Hour).Unix()
	log.Info("try", "member", Sign(secret, Claims{Sub: "alice", Role: "member", Exp: exp}),
		"admin", Sign(secret, Claims{Sub: "root", Role: "admin", Exp: exp}))

	return ws.Serve(ctx, ln, mux)
}
