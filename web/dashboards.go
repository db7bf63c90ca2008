package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Dashboards serves the dashboards API over one folder of JSON and YAML files:
//
//	GET    /api/v1/dashboards         every dashboard: name, title, file, built-in or not
//	GET    /api/v1/dashboards/<name>  one dashboard
//	PUT    /api/v1/dashboards/<name>  validate the body (JSON or YAML), then write <name>.json
//	                                  or <name>.yaml atomically (400 with the reason if invalid)
//	DELETE /api/v1/dashboards/<name>  remove its file
//
// The folder is read on every request, so files edited by hand show up without a restart.
// Names are [a-z0-9_-] only, so a name never leaves the folder. The built-in "golden-signals"
// is always listed and is read-only. Answers use Prometheus's envelope ({"status", "data"} or
// {"status": "error", "errorType", "error"}).
type Dashboards struct {
	dir string
	log *slog.Logger
	mu  sync.Mutex // serialises writes, so two saves of one name cannot interleave
}

// DashboardsPrefix is the path the API is mounted at.
const DashboardsPrefix = "/api/v1/dashboards"

var dashboardName = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)

// dashboardExts are the file extensions read, in order of preference when one name has two.
var dashboardExts = []string{".json", ".yaml", ".yml"}

// NewDashboards serves the dashboards in dir, creating it if missing.
func NewDashboards(dir string, log *slog.Logger) (*Dashboards, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create dashboards folder: %w", err)
	}
	return &Dashboards{dir: dir, log: log}, nil
}

// DashboardInfo is one entry of the list. Error is set when the file does not load; the UI
// shows it instead of hiding the dashboard.
type DashboardInfo struct {
	Name    string `json:"name"`
	Title   string `json:"title"`
	File    string `json:"file,omitempty"`
	Builtin bool   `json:"builtin"`
	Panels  int    `json:"panels"`
	Error   string `json:"error,omitempty"`
}

// DashboardDoc is one dashboard as GET and PUT answer it.
type DashboardDoc struct {
	Name      string    `json:"name"`
	File      string    `json:"file,omitempty"`
	Builtin   bool      `json:"builtin"`
	Dashboard Dashboard `json:"dashboard"`
}

func (d *Dashboards) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, DashboardsPrefix)
	if !ok || (rest != "" && !strings.HasPrefix(rest, "/")) {
		apiError(w, http.StatusNotFound, "not_found", "no such path: "+r.URL.Path)
		return
	}
	name := strings.TrimPrefix(rest, "/")
	if name == "" {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			apiError(w, http.StatusMethodNotAllowed, "bad_data", "method "+r.Method+" not allowed on the list; PUT /api/v1/dashboards/<name> saves one")
			return
		}
		d.list(w)
		return
	}
	if !dashboardName.MatchString(name) {
		apiError(w, http.StatusBadRequest, "bad_data", fmt.Sprintf("dashboard name %q: use 1 to 64 lowercase letters, digits, - and _", name))
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		d.get(w, name)
	case http.MethodPut:
		d.put(w, r, name)
	case http.MethodDelete:
		d.delete(w, name)
	default:
		w.Header().Set("Allow", "GET, HEAD, PUT, DELETE")
		apiError(w, http.StatusMethodNotAllowed, "bad_data", "method "+r.Method+" not allowed")
	}
}

func (d *Dashboards) list(w http.ResponseWriter) {
	g := GoldenSignals()
	out := []DashboardInfo{{Name: GoldenSignalsName, Title: g.Title, Builtin: true, Panels: len(g.Panels)}}
	entries, err := os.ReadDir(d.dir)
	if err != nil {
		apiError(w, http.StatusInternalServerError, "internal", "read the dashboards folder: "+err.Error())
		return
	}
	seen := map[string]bool{GoldenSignalsName: true}
	var files []DashboardInfo
	for _, name := range fileNames(entries) {
		if seen[name] {
			continue
		}
		seen[name] = true
		file, dash, err := d.read(name)
		info := DashboardInfo{Name: name, File: file, Title: dash.Title, Panels: len(dash.Panels)}
		if err != nil {
			info.Error = err.Error()
		}
		if info.Title == "" {
			info.Title = name
		}
		files = append(files, info)
	}
	// A file the API cannot name is listed, so that it does not vanish without a word.
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		base := strings.TrimSuffix(e.Name(), ext)
		if e.Type().IsRegular() && slices.Contains(dashboardExts, ext) && !strings.HasPrefix(e.Name(), ".") && !dashboardName.MatchString(base) {
			files = append(files, DashboardInfo{Name: base, File: e.Name(), Title: base,
				Error: e.Name() + ": not served: rename it to 1 to 64 lowercase letters, digits, - and _ (and .json, .yaml or .yml)"})
		}
	}
	sort.Slice(files, func(i, j int) bool { return strings.ToLower(files[i].Title) < strings.ToLower(files[j].Title) })
	apiData(w, http.StatusOK, append(out, files...))
}

// fileNames are the dashboard names of the folder's files, in the order of dashboardExts.
func fileNames(entries []fs.DirEntry) []string {
	var names []string
	for _, ext := range dashboardExts {
		for _, e := range entries {
			n, ok := strings.CutSuffix(e.Name(), ext)
			if ok && e.Type().IsRegular() && dashboardName.MatchString(n) {
				names = append(names, n)
			}
		}
	}
	return names
}

// read loads name's file: the first of name.json, name.yaml, name.yml. A missing dashboard is
// fs.ErrNotExist.
func (d *Dashboards) read(name string) (string, Dashboard, error) {
	for _, ext := range dashboardExts {
		file := name + ext
		b, err := os.ReadFile(filepath.Join(d.dir, file))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return file, Dashboard{}, fmt.Errorf("read %s: %w", file, err)
		}
		dash, err := decodeDashboard(b)
		if err != nil {
			return file, dash, fmt.Errorf("%s: %w", file, err)
		}
		return file, dash, nil
	}
	return "", Dashboard{}, fs.ErrNotExist
}

func (d *Dashboards) get(w http.ResponseWriter, name string) {
	if name == GoldenSignalsName {
		apiData(w, http.StatusOK, DashboardDoc{Name: name, Builtin: true, Dashboard: GoldenSignals()})
		return
	}
	file, dash, err := d.read(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		apiError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no dashboard %q in %s", name, d.dir))
	case err != nil:
		apiError(w, http.StatusUnprocessableEntity, "bad_data", err.Error())
	default:
		apiData(w, http.StatusOK, DashboardDoc{Name: name, File: file, Dashboard: dash})
	}
}

func (d *Dashboards) put(w http.ResponseWriter, r *http.Request, name string) {
	if name == GoldenSignalsName {
		apiError(w, http.StatusForbidden, "bad_data", "the built-in Golden signals dashboard is read-only: save a copy under another name")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxDashboardBytes+1))
	if err != nil {
		apiError(w, http.StatusBadRequest, "bad_data", "read the request body: "+err.Error())
		return
	}
	dash, err := decodeDashboard(body)
	if err != nil {
		apiError(w, http.StatusBadRequest, "bad_data", err.Error())
		return
	}
	// What was sent is what is stored, comments and key order included; the extension
	// follows the format, and a file of the other format under the same name is removed.
	ext := ".yaml"
	if t := strings.TrimSpace(string(body)); strings.HasPrefix(t, "{") {
		ext = ".json"
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := writeFileAtomic(d.dir, name+ext, body); err != nil {
		apiError(w, http.StatusInternalServerError, "internal", "save dashboard: "+err.Error())
		return
	}
	for _, other := range dashboardExts {
		if other != ext {
			if err := os.Remove(filepath.Join(d.dir, name+other)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				d.log.Warn("remove the previous dashboard file", "file", name+other, "err", err)
			}
		}
	}
	apiData(w, http.StatusOK, DashboardDoc{Name: name, File: name + ext, Dashboard: dash})
}

func (d *Dashboards) delete(w http.ResponseWriter, name string) {
	if name == GoldenSignalsName {
		apiError(w, http.StatusForbidden, "bad_data", "the built-in Golden signals dashboard cannot be deleted")
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	removed := 0
	for _, ext := range dashboardExts {
		err := os.Remove(filepath.Join(d.dir, name+ext))
		switch {
		case err == nil:
			removed++
		case !errors.Is(err, fs.ErrNotExist):
			apiError(w, http.StatusInternalServerError, "internal", "delete dashboard: "+err.Error())
			return
		}
	}
	if removed == 0 {
		apiError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no dashboard %q", name))
		return
	}
	if err := syncDir(d.dir); err != nil {
		d.log.Warn("sync the dashboards folder", "err", err)
	}
	apiData(w, http.StatusOK, map[string]string{"name": name})
}

// writeFileAtomic writes name in dir through a temporary file renamed over it, so a reader
// sees the old file or the new one, never half of one, and a crash leaves no torn file.
func writeFileAtomic(dir, name string, b []byte) error {
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename or removal in dir durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	return errors.Join(err, f.Close())
}

func apiData(w http.ResponseWriter, code int, data any) {
	writeJSON(w, code, map[string]any{"status": "success", "data": data})
}

func apiError(w http.ResponseWriter, code int, typ, msg string) {
	writeJSON(w, code, map[string]any{"status": "error", "errorType": typ, "error": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v) // the client went away: nothing left to tell it
}
