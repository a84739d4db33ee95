// Package webclient serves zocket.js, a dependency-free browser client
// (an ES module shaped like @zocket/client), and its TypeScript types
// zocket.d.ts, so that any zocket server can hand it to its pages:
//
//	mux.Handle("/zocket/", http.StripPrefix("/zocket", webclient.Handler()))
//
// and in the page:
//
//	import { createClient } from "/zocket/zocket.js";
package webclient

import (
	"embed"
	"net/http"
)

//go:embed zocket.js zocket.d.ts
var files embed.FS

// Handler serves /zocket.js and /zocket.d.ts; other paths are 404.
func Handler() http.Handler {
	fs := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/zocket.js":
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		case "/zocket.d.ts":
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		default:
			http.NotFound(w, r)
			return
		}
		fs.ServeHTTP(w, r)
	})
}
