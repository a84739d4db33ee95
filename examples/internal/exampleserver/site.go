package exampleserver

import (
	"io/fs"
	"net/http"
	"strings"

	"github.com/zocket-go/zocket/webclient"
)

// Site returns the handler of an example that has web pages, all on one
// port: WebSocket upgrade requests, on any path, go to ws; /zocket/ serves
// the browser client (zocket.js); any other path is a file of pages.
func Site(ws http.Handler, pages fs.FS) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/zocket/", http.StripPrefix("/zocket", webclient.Handler()))
	mux.Handle("/", http.FileServerFS(pages))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(strings.ToLower(r.Header.Get("Upgrade")), "websocket") {
			ws.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// Sub returns the subtree dir of fsys, typically the directory of pages
// an example embeds.
func Sub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err) // fs.Sub fails only for an invalid path: a bug in the caller
	}
	return sub
}
