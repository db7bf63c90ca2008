package logs

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func newAPIServer(t *testing.T, s *Store) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(s.APIHandler()) // listens on 127.0.0.1
	t.Cleanup(srv.Close)
	return srv
}

func TestAPIGolden(t *testing.T) {
	s := flushedFixture(t)
	srv := newAPIServer(t, s)
	start, end := t0.Format(time.RFC3339), strconv.FormatInt(t0.Add(2*time.Hour).Unix(), 10)
	hit, err := s.Query(context.Background(), Query{Q: "n:6", Start: t0, End: t0.Add(2 * time.Hour)})
	if err != nil || len(hit.Lines) != 1 {
		t.Fatal(hit, err)
	}
	cases := []struct {
		golden string
		path   string
		params url.Values
		status int
	}{
		{"query", "/api/v1/logs/query", url.Values{"q": {"level:error"}, "start": {start}, "end": {end}, "limit": {"3"}}, 200},
		{"query_forward_ns", "/api/v1/logs/query", url.Values{"q": {`service:checkout "payment-service:8080"`}, "start": {strconv.FormatInt(t0.UnixNano(), 10)}, "end": {end}, "direction": {"forward"}}, 200},
		{"volume", "/api/v1/logs/volume", url.Values{"start": {start}, "end": {end}, "step": {"30m"}, "by": {"level"}}, 200},
		{"fields", "/api/v1/logs/fields", url.Values{"start": {start}, "end": {end}}, 200},
		{"field_values", "/api/v1/logs/field/service/values", url.Values{"q": {"level:error OR level:warn"}, "start": {start}, "end": {end}}, 200},
		{"context", "/api/v1/logs/context", url.Values{"id": {hit.Lines[0].ID}, "before": {"1"}, "after": {"1"}}, 200},
		{"bad_query", "/api/v1/logs/query", url.Values{"q": {"(level:error"}, "start": {start}, "end": {end}}, 400},
		{"bad_time", "/api/v1/logs/query", url.Values{"start": {"yesterday"}}, 400},
		{"bad_direction", "/api/v1/logs/query", url.Values{"direction": {"sideways"}}, 400},
		// The phrase's lines are verified one by one; past total_limit the total is a lower bound.
		{"query_total_limit", "/api/v1/logs/query", url.Values{"q": {`"connection refused"`}, "start": {start}, "end": {end}, "limit": {"1"}, "total_limit": {"1"}}, 200},
		{"bad_total_limit", "/api/v1/logs/query", url.Values{"total_limit": {"-1"}}, 400},
		{"unknown_id", "/api/v1/logs/context", url.Values{"id": {"1-2-3"}}, 404},
	}
	for _, tc := range cases {
		t.Run(tc.golden, func(t *testing.T) {
			resp, err := srv.Client().Get(srv.URL + tc.path + "?" + tc.params.Encode())
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			var v any
			if err := json.Unmarshal(body, &v); err != nil {
				t.Fatalf("not JSON: %v: %s", err, body)
			}
			got, _ := json.MarshalIndent(v, "", "  ")
			got = append(got, '\n')
			path := filepath.Join("testdata", tc.golden+".json")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("mismatch with %s\n got: %s\nwant: %s", path, got, want)
			}
		})
	}
}

// TestAPIRawIsExact checks that a hit's raw line comes back byte for byte through the API.
func TestAPIRawIsExact(t *testing.T) {
	s := flushedFixture(t)
	srv := newAPIServer(t, s)
	resp, err := srv.Client().Get(srv.URL + "/api/v1/logs/query?" + url.Values{"q": {"café"}, "start": {t0.Format(time.RFC3339)}, "end": {t0.Add(2 * time.Hour).Format(time.RFC3339)}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		Data struct {
			Lines []struct{ Raw string }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatal(err)
	}
	if len(env.Data.Lines) != 1 || env.Data.Lines[0].Raw != string(fixtureRecords()[5].Raw) {
		t.Fatalf("raw = %+v, want %s", env.Data.Lines, fixtureRecords()[5].Raw)
	}
}

func TestAPITail(t *testing.T) {
	s := openTestStore(t, t.TempDir(), testOptions())
	srv := newAPIServer(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/v1/logs/tail?q="+url.QueryEscape("service:gateway"), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	r := bufio.NewReader(resp.Body)
	if l, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(l, ":") { // subscribed
		t.Fatalf("first line %q, %v", l, err)
	}
	writeFixture(t, s)
	var msgs []string
	for len(msgs) < 3 {
		l, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("after %d events: %v", len(msgs), err)
		}
		if data, ok := strings.CutPrefix(l, "data: "); ok {
			var line struct{ Message string }
			if err := json.Unmarshal([]byte(data), &line); err != nil {
				t.Fatal(err)
			}
			msgs = append(msgs, line.Message)
		}
	}
	want := []string{"GET /api/v1/users 200", "upstream timeout after 30s", "deprecated header X-Foo"}
	if strings.Join(msgs, "|") != strings.Join(want, "|") {
		t.Errorf("tail = %q, want %q", msgs, want)
	}
}

func TestParseAPITime(t *testing.T) {
	f := func(in string, want time.Time) {
		t.Helper()
		got, err := parseAPITime(in)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseAPITime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	f("2026-01-01T10:00:00Z", t0)
	f("2026-01-01T11:00:00+01:00", t0)
	f(strconv.FormatInt(t0.Unix(), 10), t0)
	f(strconv.FormatInt(t0.UnixNano(), 10), t0)
	f(strconv.FormatInt(t0.Unix(), 10)+".5", t0.Add(500*time.Millisecond))
	if _, err := parseAPITime("yesterday"); err == nil {
		t.Error("yesterday parsed")
	}
}
