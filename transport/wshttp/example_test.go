package wshttp_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/coder/websocket"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/transport/wshttp"
)

// Mount the WebSocket endpoint on your own mux, beside your own routes.
func ExampleNew() {
	type Counter struct {
		Count int `json:"count"`
	}
	inc := zocket.MethodNoInput("increment", func(c *zocket.Context[Counter, zocket.NoData]) (int, error) {
		c.State.Count++
		return c.State.Count, nil
	})
	app := zocket.NewApp().Register("counter", zocket.NewActor[Counter]().Methods(inc))

	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "ok") })
	ws, err := wshttp.New(zocket.NewHandler(app), wshttp.Options{})
	if err != nil {
		panic(err)
	}
	mux.Handle("/ws", ws)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// A client: any WebSocket library, or @zocket/client in a browser.
	ctx := context.Background()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
	if err != nil {
		panic(err)
	}
	defer c.CloseNow()
	_, welcome, _ := c.Read(ctx)
	fmt.Println(strings.HasPrefix(string(welcome), `{"type":"welcome","clientId":"go_`))
	_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"rpc","id":"1","actor":"counter","actorId":"a","method":"increment"}`))
	_, result, _ := c.Read(ctx)
	fmt.Println(string(result))
	// Output:
	// true
	// {"type":"rpc:result","id":"1","result":1}
}
