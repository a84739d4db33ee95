package main

import (
	"embed"
	"io/fs"
)

//go:embed page
var pageFiles embed.FS

// pages returns the chat page (index.html, served at /).
func pages() fs.FS {
	sub, err := fs.Sub(pageFiles, "page")
	if err != nil {
		panic(err) // "page" is a valid path: cannot happen
	}
	return sub
}
