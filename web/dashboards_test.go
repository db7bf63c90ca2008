package web

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// newDashboardServer serves a copy of testdata/dashboards from a temporary folder.
func newDashboardServer(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "dashboards") // created by NewDashboards
	d, err := NewDashboards(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir("testdata/dashboards")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("testdata/dashboards", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	mux.Handle(DashboardsPrefix, d)
	mux.Handle(DashboardsPrefix+"/", d)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, dir
}

type envelope struct {
	Status string          `json:"status"`
	Error  string          `json:"error"`
	Data   json.RawMessage `json:"data"`
}

func do(t *testing.T, method, url, body string) (int, envelope) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("%s %s: not JSON: %v: %s", method, url, err, b)
	}
	return resp.StatusCode, env
}

const validJSON = `{"title": "Orders", "variables": [{"name": "service", "query": "label_values(up, job)"}],
 "panels": [{"title": "Rate", "type": "graph", "query": "sum(rate(http_requests_total{job=\"$service\"}[5m]))", "w": 6},
            {"title": "Lines", "type": "logs", "display": "lines", "query": "service:$service"}]}`

const validYAML = "title: Orders (YAML)\npanels:\n  - {title: Up, type: stat, query: up, unit: percent}\n"

func TestDashboardsAPI(t *testing.T) {
	tests := []struct {
		name, method, path, body string
		wantCode                 int
		wantErr                  string // part of the error message
		wantFile                 string // file that must exist afterwards
		goneFiles                []string
	}{
		{name: "valid JSON save", method: "PUT", path: "/orders", body: validJSON, wantCode: 200, wantFile: "orders.json"},
		{name: "valid YAML save", method: "PUT", path: "/orders-yaml", body: validYAML, wantCode: 200, wantFile: "orders-yaml.yaml"},
		{name: "saving JSON over YAML replaces the file", method: "PUT", path: "/checkout", body: validJSON, wantCode: 200, wantFile: "checkout.json", goneFiles: []string{"checkout.yaml"}},
		{name: "invalid JSON", method: "PUT", path: "/x", body: `{"title": "x",` + "\n" + ` "panels": [}`, wantCode: 400, wantErr: "invalid JSON: line 2"},
		{name: "invalid YAML", method: "PUT", path: "/x", body: "title: [unclosed\n", wantCode: 400, wantErr: "invalid YAML"},
		{name: "unknown panel type", method: "PUT", path: "/x", body: `{"title": "x", "panels": [{"title": "h", "type": "heatmap", "query": "up"}]}`, wantCode: 400, wantErr: `unknown panel type "heatmap"`},
		{name: "unknown key", method: "PUT", path: "/x", body: `{"title": "x", "panels": [], "colour": "red"}`, wantCode: 400, wantErr: `unknown field "colour"`},
		{name: "unknown YAML key", method: "PUT", path: "/x", body: "title: x\npanel: []\n", wantCode: 400, wantErr: "field panel not found"},
		{name: "no title", method: "PUT", path: "/x", body: `{"panels": []}`, wantCode: 400, wantErr: "title: must not be empty"},
		{name: "empty query", method: "PUT", path: "/x", body: `{"title": "x", "panels": [{"title": "a", "type": "graph", "query": ""}]}`, wantCode: 400, wantErr: "query must not be empty"},
		{name: "bad log display", method: "PUT", path: "/x", body: `{"title": "x", "panels": [{"type": "logs", "display": "pie", "query": "a"}]}`, wantCode: 400, wantErr: `display "pie"`},
		{name: "variable without values", method: "PUT", path: "/x", body: `{"title": "x", "variables": [{"name": "a"}], "panels": []}`, wantCode: 400, wantErr: "needs a query"},
		{name: "width past the grid", method: "PUT", path: "/x", body: `{"title": "x", "panels": [{"type": "stat", "query": "up", "w": 13}]}`, wantCode: 400, wantErr: "w must be 1 to 12"},
		{name: "empty body", method: "PUT", path: "/x", body: "", wantCode: 400, wantErr: "empty"},
		{name: "bad name: dots", method: "PUT", path: "/..%2fescape", body: validJSON, wantCode: 400, wantErr: "dashboard name"},
		{name: "bad name: upper case", method: "PUT", path: "/Orders", body: validJSON, wantCode: 400, wantErr: "dashboard name"},
		{name: "bad name: nested", method: "GET", path: "/a/b", wantCode: 400, wantErr: "dashboard name"},
		{name: "built-in not writable", method: "PUT", path: "/golden-signals", body: validJSON, wantCode: 403, wantErr: "read-only"},
		{name: "built-in not deletable", method: "DELETE", path: "/golden-signals", wantCode: 403, wantErr: "cannot be deleted"},
		{name: "built-in readable", method: "GET", path: "/golden-signals", wantCode: 200},
		{name: "delete", method: "DELETE", path: "/checkout", wantCode: 200, goneFiles: []string{"checkout.yaml"}},
		{name: "delete missing", method: "DELETE", path: "/nope", wantCode: 404, wantErr: "no dashboard"},
		{name: "get missing", method: "GET", path: "/nope", wantCode: 404, wantErr: "no dashboard"},
		{name: "get a file that does not load", method: "GET", path: "/broken", wantCode: 422, wantErr: `broken.json: panels[0] ("x"): unknown panel type "heatmap"`},
		{name: "post is not a method here", method: "POST", path: "/orders", body: validJSON, wantCode: 405},
		{name: "list is read-only", method: "PUT", path: "", body: validJSON, wantCode: 405},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, dir := newDashboardServer(t)
			code, env := do(t, tc.method, srv.URL+DashboardsPrefix+tc.path, tc.body)
			if code != tc.wantCode {
				t.Fatalf("%s %s = %d (%s), want %d", tc.method, tc.path, code, env.Error, tc.wantCode)
			}
			if !strings.Contains(env.Error, tc.wantErr) {
				t.Errorf("error %q does not say %q", env.Error, tc.wantErr)
			}
			if tc.wantFile != "" {
				b, err := os.ReadFile(filepath.Join(dir, tc.wantFile))
				if err != nil {
					t.Fatalf("saved file: %v", err)
				}
				if string(b) != tc.body {
					t.Errorf("file holds %q, want the body as sent", b)
				}
				// It reads back as saved.
				code, env := do(t, "GET", srv.URL+DashboardsPrefix+tc.path, "")
				var doc DashboardDoc
				if err := json.Unmarshal(env.Data, &doc); code != 200 || err != nil {
					t.Fatalf("read back: %d %v %s", code, err, env.Error)
				}
				want, _ := decodeDashboard([]byte(tc.body))
				if doc.Dashboard.Title != want.Title || len(doc.Dashboard.Panels) != len(want.Panels) || doc.File != tc.wantFile {
					t.Errorf("read back %+v, want %+v in %s", doc, want, tc.wantFile)
				}
			}
			for _, f := range tc.goneFiles {
				if _, err := os.Stat(filepath.Join(dir, f)); !os.IsNotExist(err) {
					t.Errorf("%s still there (%v)", f, err)
				}
			}
			// No temporary file is left behind, whatever happened.
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".") {
					t.Errorf("left behind %s", e.Name())
				}
			}
		})
	}
}

func TestDashboardsList(t *testing.T) {
	srv, _ := newDashboardServer(t)
	code, env := do(t, "GET", srv.URL+DashboardsPrefix, "")
	if code != 200 {
		t.Fatalf("list = %d %s", code, env.Error)
	}
	var list []DashboardInfo
	if err := json.Unmarshal(env.Data, &list); err != nil {
		t.Fatal(err)
	}
	got := map[string]DashboardInfo{}
	for _, d := range list {
		got[d.Name] = d
	}
	if len(list) != 4 || list[0].Name != GoldenSignalsName || !list[0].Builtin {
		t.Fatalf("list = %+v, want the built-in first, then broken, checkout and Bad_Name", list)
	}
	if b := got["Bad_Name"]; !strings.Contains(b.Error, "rename it") || b.File != "Bad_Name.yml" {
		t.Errorf("a file with a name the API cannot serve is listed with why: %+v", b)
	}
	if c := got["checkout"]; c.Title != "Checkout" || c.Panels != 2 || c.File != "checkout.yaml" || c.Error != "" {
		t.Errorf("checkout = %+v", c)
	}
	if b := got["broken"]; !strings.Contains(b.Error, "heatmap") {
		t.Errorf("a broken file is listed with its error: %+v", b)
	}
}

// The built-in dashboard is valid by the rules every file must follow, and its queries name
// the span metrics the UI's golden signals read.
func TestGoldenSignalsDashboard(t *testing.T) {
	g := GoldenSignals()
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decodeDashboard(b); err != nil {
		t.Fatalf("built-in does not round-trip: %v", err)
	}
	for _, want := range []string{"traces_span_metrics_calls_total", "traces_span_metrics_duration_milliseconds_bucket", `quantile", "p99"`, "$service"} {
		if !strings.Contains(string(b), strings.ReplaceAll(want, `"`, `\"`)) {
			t.Errorf("built-in dashboard has no %s", want)
		}
	}
}
