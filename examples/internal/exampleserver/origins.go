package exampleserver

import (
	"context"
	"strings"
)

type originsKey struct{}

// WithOrigins returns ctx carrying the origin patterns that Origins
// returns; Main sets them from its -origins flag.
func WithOrigins(ctx context.Context, patterns []string) context.Context {
	return context.WithValue(ctx, originsKey{}, patterns)
}

// Origins returns the host patterns (path.Match syntax, such as
// "localhost:5173" for a Vite dev server) of the other origins whose pages
// may connect, for a transport's OriginPatterns option. Without them a
// transport refuses pages from any other origin with 403.
func Origins(ctx context.Context) []string {
	p, _ := ctx.Value(originsKey{}).([]string)
	return p
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
