package main

import (
	"embed"
	"io/fs"

	"github.com/zocket-go/zocket/examples/internal/exampleserver"
)

//go:embed page
var pageFiles embed.FS

// pages returns the agent page (index.html, served at /).
func pages() fs.FS { return exampleserver.Sub(pageFiles, "page") }
