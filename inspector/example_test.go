package inspector_test

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/inspector"
)

// Build the Recorder, then the App that it observes, then the Inspector,
// and mount it under a path behind your own authorization: here a token
// in the query, which the page passes on to its requests.
func Example() {
	type Counter struct {
		Count int `json:"count"`
	}
	inc := zocket.MethodNoInput("increment", func(c *zocket.Context[Counter, zocket.NoData]) (int, error) {
		c.State.Count++
		return c.State.Count, nil
	})

	rec := inspector.NewRecorder()
	// With other observers too: zocket.WithObserver(zocket.Observers(rec, otelObserver)).
	app := zocket.NewApp(zocket.WithObserver(rec)).Register("counter", zocket.NewActor[Counter]().Methods(inc))
	insp, err := inspector.New(app, inspector.Options{
		Recorder: rec,
		Authorize: func(r *http.Request) error {
			if subtle.ConstantTimeCompare([]byte(r.URL.Query().Get("token")), []byte("s3cret")) != 1 {
				return errors.New("no valid token")
			}
			return nil
		},
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/inspect/", http.StripPrefix("/inspect", insp)) // the page is /inspect/?token=s3cret
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer insp.Shutdown(context.Background())

	if _, err := app.Invoke(context.Background(), "counter", "a", "increment", nil); err != nil {
		panic(err)
	}
	res, err := http.Get(srv.URL + "/inspect/stats.json")
	if err != nil {
		panic(err)
	}
	res.Body.Close()
	fmt.Println(res.Status)

	res, err = http.Get(srv.URL + "/inspect/stats.json?token=s3cret")
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	var snap inspector.Snapshot
	if err := json.NewDecoder(res.Body).Decode(&snap); err != nil {
		panic(err)
	}
	in := snap.Instances[0]
	fmt.Println(in.Actor, in.ID, "last call:", in.LastCall.Method, in.LastCall.Outcome)
	fmt.Println(snap.Methods[0].Method, "calls:", snap.Methods[0].Count)
	// Output:
	// 401 Unauthorized
	// counter a last call: increment ok
	// increment calls: 1
}
