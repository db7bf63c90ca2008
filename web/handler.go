package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"
)

//go:embed assets
var assets embed.FS

// assetExts are the extensions of files the UI loads. A missing path with one of these is a
// real 404 (a broken script reference must show as one); any other missing path is a page of
// the single-page app, including names with dots such as /slos/checkout.availability.
var assetExts = []string{".js", ".mjs", ".css", ".map", ".json", ".html", ".png", ".svg", ".ico", ".woff", ".woff2", ".txt"}

// Handler serves the UI's files; every GET or HEAD for a path that is not a file and does not
// look like an asset gets index.html, so the client-side router handles it.
func Handler() http.Handler {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		// The directory is embedded at build time: its absence is a build defect, not a
		// run-time condition.
		panic("web: embedded assets missing: " + err.Error())
	}
	index, err := fs.ReadFile(sub, "index.html")
	if err != nil {
		panic("web: embedded index.html missing: " + err.Error())
	}
	manifest, err := pageManifest(sub)
	if err != nil {
		panic("web: list embedded pages: " + err.Error())
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		// Embedded files carry no modification time, so there is nothing to revalidate
		// against: ask browsers to check every time rather than run a stale UI after an
		// upgrade. The files are small and served from memory.
		w.Header().Set("Cache-Control", "no-cache")
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		switch {
		case name == "pages/index.json":
			serveBytes(w, r, "index.json", manifest)
		case name == "" || name == "index.html":
			// Served directly: FileServer would redirect /index.html to /.
			serveBytes(w, r, "index.html", index)
		case isFile(sub, name):
			files.ServeHTTP(w, r)
		case slices.Contains(assetExts, strings.ToLower(path.Ext(name))), strings.HasPrefix(name, "api/"):
			// An API path that no API answered is a client's mistake: it gets a 404, not
			// a page of HTML.
			http.NotFound(w, r)
		default:
			serveBytes(w, r, "index.html", index)
		}
	})
}

func serveBytes(w http.ResponseWriter, r *http.Request, name string, b []byte) {
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}

func isFile(fsys fs.FS, name string) bool {
	st, err := fs.Stat(fsys, name)
	return err == nil && st.Mode().IsRegular()
}

// pageManifest lists the page modules (pages/<name>.js) as {"pages": [name, ...]}.
func pageManifest(fsys fs.FS) ([]byte, error) {
	entries, err := fs.ReadDir(fsys, "pages")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	pages := []string{}
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".js"); ok && e.Type().IsRegular() {
			pages = append(pages, n)
		}
	}
	return json.Marshal(map[string][]string{"pages": pages})
}
