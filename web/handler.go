package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed assets
var assets embed.FS

// Handler serves the UI's files; "/" is the index page.
func Handler() http.Handler {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		// The directory is embedded at build time: its absence is a build defect, not a
		// run-time condition.
		panic("web: embedded assets missing: " + err.Error())
	}
	return http.FileServerFS(sub)
}
