package tsdb

import (
	"bytes"
	"cmp"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// newAPIServer mounts the API the way cmd/vigil does: a chi router with the
// ingest routes registered next to the /api/v1/* catch-all.
func newAPIServer(t *testing.T, db *DB, o APIOptions) *httptest.Server {
	t.Helper()
	r := chi.NewRouter()
	r.Post("/api/v1/write", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Route", "ingest")
		w.WriteHeader(http.StatusNoContent)
	})
	r.Handle("/api/v1/*", db.APIHandler(o))
	srv := httptest.NewServer(r) // listens on 127.0.0.1
	t.Cleanup(srv.Close)
	return srv
}

func fixtureAPI(t *testing.T) *httptest.Server {
	t.Helper()
	db := openTestDB(t, t.TempDir(), DefaultOptions())
	appendFixture(t, db)
	return newAPIServer(t, db, APIOptions{
		Version:   "0.1.0",
		Revision:  "abc123",
		Branch:    "main",
		BuildUser: "ci@vigil",
		BuildDate: "20260101-00:00:00",
		GoVersion: "go1.26.7",
		Flags:     map[string]string{"storage.path": "/var/lib/vigil"},
	})
}

func unix(d time.Duration) string {
	return strconv.FormatFloat(float64(t0.Add(d).UnixMilli())/1000, 'f', -1, 64)
}

func TestAPIGolden(t *testing.T) {
	srv := fixtureAPI(t)
	end := fixtureStep * (fixtureSamples - 1)
	cases := []struct {
		golden string // testdata/<golden>.json
		method string
		path   string
		params url.Values
		status int
	}{
		{"query_vector", "GET", "/api/v1/query", url.Values{"query": {"vigil_requests_total"}, "time": {unix(end)}}, 200},
		{"query_vector", "POST", "/api/v1/query", url.Values{"query": {"vigil_requests_total"}, "time": {unix(end)}}, 200},
		{"query_scalar_sum", "GET", "/api/v1/query", url.Values{"query": {"sum(vigil_requests_total)"}, "time": {unix(end)}}, 200},
		{"query_histogram", "GET", "/api/v1/query", url.Values{"query": {"vigil_latency_seconds"}, "time": {unix(end)}}, 200},
		{"query_histogram_quantile", "GET", "/api/v1/query", url.Values{"query": {"histogram_quantile(0.5, vigil_latency_seconds)"}, "time": {unix(end)}}, 200},
		{"query_range", "GET", "/api/v1/query_range", url.Values{"query": {`vigil_requests_total{instance="a"}`}, "start": {unix(0)}, "end": {unix(end)}, "step": {"15s"}}, 200},
		{"query_range", "POST", "/api/v1/query_range", url.Values{"query": {`vigil_requests_total{instance="a"}`}, "start": {unix(0)}, "end": {unix(end)}, "step": {"15s"}}, 200},
		{"series", "GET", "/api/v1/series", url.Values{"match[]": {"vigil_requests_total"}, "start": {unix(0)}, "end": {unix(end)}}, 200},
		{"series", "POST", "/api/v1/series", url.Values{"match[]": {"vigil_requests_total"}, "start": {unix(0)}, "end": {unix(end)}}, 200},
		{"labels", "GET", "/api/v1/labels", url.Values{"start": {unix(0)}, "end": {unix(end)}}, 200},
		{"label_values", "GET", "/api/v1/label/instance/values", url.Values{"start": {unix(0)}, "end": {unix(end)}}, 200},
		{"label_values_name", "GET", "/api/v1/label/__name__/values", nil, 200},
		{"query_exemplars", "GET", "/api/v1/query_exemplars", url.Values{"query": {"vigil_requests_total"}, "start": {unix(0)}, "end": {unix(end)}}, 200},
		{"buildinfo", "GET", "/api/v1/status/buildinfo", nil, 200},
		{"status_tsdb", "GET", "/api/v1/status/tsdb", nil, 200},
		{"flags", "GET", "/api/v1/status/flags", nil, 200},
		{"metadata", "GET", "/api/v1/metadata", nil, 200},
		{"targets", "GET", "/api/v1/targets", nil, 200},
		{"rules", "GET", "/api/v1/rules", nil, 200},
		{"alerts", "GET", "/api/v1/alerts", nil, 200},
		{"bad_promql", "GET", "/api/v1/query", url.Values{"query": {"sum(rate(x[5m]"}, "time": {unix(end)}}, 400},
		{"bad_promql", "POST", "/api/v1/query", url.Values{"query": {"sum(rate(x[5m]"}, "time": {unix(end)}}, 400},
		{"bad_time", "GET", "/api/v1/query_range", url.Values{"query": {"up"}, "start": {"yesterday"}, "end": {unix(end)}, "step": {"15s"}}, 400},
	}
	updated := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.golden, func(t *testing.T) {
			status, body := call(t, srv, tc.method, tc.path, tc.params)
			if status != tc.status {
				t.Fatalf("status %d, want %d; body %s", status, tc.status, body)
			}
			got := canonicalJSON(t, body)
			path := filepath.Join("testdata", tc.golden+".json")
			if *update && !updated[tc.golden] {
				updated[tc.golden] = true
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s %s mismatch with %s\n got: %s\nwant: %s", tc.method, tc.path, path, got, want)
			}
		})
	}
}

// TestAPIErrorEnvelope checks the error shape independently of the golden files.
func TestAPIErrorEnvelope(t *testing.T) {
	srv := fixtureAPI(t)
	status, body := call(t, srv, "POST", "/api/v1/query", url.Values{"query": {"1 +"}})
	var env struct{ Status, ErrorType, Error string }
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatal(err)
	}
	if status != http.StatusBadRequest || env.Status != "error" || env.ErrorType != "bad_data" || env.Error == "" {
		t.Fatalf("got %d %+v, want 400 error/bad_data", status, env)
	}
}

func TestAPIRouting(t *testing.T) {
	srv := fixtureAPI(t)
	cases := []struct {
		method, path string
		status       int
		ingest       bool // served by the chi route, not the API
	}{
		{"POST", "/api/v1/write", http.StatusNoContent, true},
		{"GET", "/api/v1/query?query=1", http.StatusOK, false},
		{"GET", "/api/v1/status/runtimeinfo", http.StatusOK, false},
		{"GET", "/api/v1/status/walreplay", http.StatusOK, false},
		{"POST", "/api/v1/otlp/v1/metrics", http.StatusNotFound, false}, // receiver disabled
		{"GET", "/api/v1/no_such_endpoint", http.StatusNotFound, false},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tc.status, body)
			}
			if got := resp.Header.Get("X-Route") == "ingest"; got != tc.ingest {
				t.Fatalf("served by ingest route = %v, want %v", got, tc.ingest)
			}
		})
	}
}

func TestAPIRuntimeInfo(t *testing.T) {
	srv := fixtureAPI(t)
	_, body := call(t, srv, "GET", "/api/v1/status/runtimeinfo", nil)
	var env struct {
		Data struct {
			StorageRetention string `json:"storageRetention"`
			GoroutineCount   int    `json:"goroutineCount"`
			StartTime        time.Time
		}
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatal(err)
	}
	if env.Data.StorageRetention != "15d" || env.Data.GoroutineCount == 0 || env.Data.StartTime.IsZero() {
		t.Fatalf("runtimeinfo = %s", body)
	}
}

func TestAPIReadyAndCORS(t *testing.T) {
	db := openTestDB(t, t.TempDir(), DefaultOptions())
	var ready atomic.Bool
	srv := newAPIServer(t, db, APIOptions{Ready: ready.Load})
	get := func() *http.Response {
		req, err := http.NewRequest("GET", srv.URL+"/api/v1/labels", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", "https://evil.example")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := get(); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("not ready: status %d, want 503", resp.StatusCode)
	}
	ready.Store(true)
	resp := get()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ready: status %d, want 200", resp.StatusCode)
	}
	if h := resp.Header.Get("Access-Control-Allow-Origin"); h != "" {
		t.Fatalf("CORS header %q sent without a CORSOrigin", h)
	}
}

func call(t *testing.T, srv *httptest.Server, method, path string, params url.Values) (int, []byte) {
	t.Helper()
	var req *http.Request
	var err error
	if method == "POST" {
		req, err = http.NewRequest(method, srv.URL+path, strings.NewReader(params.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	} else {
		req, err = http.NewRequest(method, srv.URL+path+"?"+params.Encode(), nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// canonicalJSON re-indents body with sorted keys so goldens diff cleanly.
func canonicalJSON(t *testing.T, body []byte) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("response is not JSON: %v: %s", err, body)
	}
	sortTSDBStats(v)
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

// sortTSDBStats orders status/tsdb's {name, value} lists by value descending,
// then name: Prometheus sorts by value only, leaving ties in map order.
func sortTSDBStats(v any) {
	switch v := v.(type) {
	case map[string]any:
		for _, e := range v {
			sortTSDBStats(e)
		}
	case []any:
		isStat := len(v) > 0
		for _, e := range v {
			m, ok := e.(map[string]any)
			_, hasName := m["name"].(string)
			_, hasValue := m["value"].(float64)
			isStat = isStat && ok && len(m) == 2 && hasName && hasValue
			sortTSDBStats(e)
		}
		if !isStat {
			return
		}
		slices.SortStableFunc(v, func(a, b any) int {
			am, bm := a.(map[string]any), b.(map[string]any)
			if c := cmp.Compare(bm["value"].(float64), am["value"].(float64)); c != 0 {
				return c
			}
			return cmp.Compare(am["name"].(string), bm["name"].(string))
		})
	}
}
