package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	index, err := assets.ReadFile("assets/index.html")
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, method, path string
		wantCode           int
		wantType           string // Content-Type prefix
		wantIndex          bool   // the body is index.html
	}{
		{"root", "GET", "/", 200, "text/html", true},
		{"index by name", "GET", "/index.html", 200, "text/html", true},
		{"page route", "GET", "/explore", 200, "text/html", true},
		{"nested route", "GET", "/traces/4bf92f3577b34da6a3ce929d0e0e4736", 200, "text/html", true},
		{"route with a dot", "GET", "/slos/checkout.availability", 200, "text/html", true},
		{"route with a query", "GET", "/logs?q=level:error&from=now-1h", 200, "text/html", true},
		{"directory is a route, not a listing", "GET", "/pages", 200, "text/html", true},
		{"directory with slash", "GET", "/vendor/uplot/", 200, "text/html", true},
		{"head of a route", "HEAD", "/alerts", 200, "text/html", false},
		{"script", "GET", "/app.js", 200, "text/javascript", false},
		{"vendored module", "GET", "/vendor/uplot/uPlot.esm.js", 200, "text/javascript", false},
		{"style", "GET", "/style.css", 200, "text/css", false},
		{"missing script is a 404", "GET", "/pages/nope.js", 404, "text/plain", false},
		{"missing style is a 404", "GET", "/nope.css", 404, "text/plain", false},
		{"post refused", "POST", "/explore", 405, "text/plain", false},
		{"unknown API path is a 404", "GET", "/api/v9/nothing", 404, "text/plain", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.wantCode {
				t.Fatalf("status %d, want %d; body %q", resp.StatusCode, tc.wantCode, body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tc.wantType) {
				t.Errorf("Content-Type %q, want %q", ct, tc.wantType)
			}
			if got := string(body) == string(index); got != tc.wantIndex {
				t.Errorf("body is index.html: %v, want %v (%d bytes)", got, tc.wantIndex, len(body))
			}
		})
	}
}

// The router asks pages/index.json which page modules exist; it must list exactly the
// embedded pages/*.js files.
func TestPageManifest(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/pages/index.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var got struct{ Pages []string }
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	entries, err := assets.ReadDir("assets/pages")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".js"); ok {
			want = append(want, n)
		}
	}
	if !slices.Equal(got.Pages, want) {
		t.Fatalf("pages %v, want %v", got.Pages, want)
	}
	for _, p := range []string{"home", "service", "explore", "logs"} {
		if !slices.Contains(got.Pages, p) {
			t.Errorf("page %q missing from %v", p, got.Pages)
		}
	}
}
