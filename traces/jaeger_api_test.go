package traces

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// checkGolden compares got (JSON) with testdata/name, indented; -update rewrites it.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, got, "", "  "); err != nil {
		t.Fatalf("%s: not JSON: %v\n%s", name, err, got)
	}
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(bytes.TrimSpace(buf.Bytes()), bytes.TrimSpace(want)) {
		t.Errorf("%s differs from the golden file (run with -update to accept):\n%s", name, buf.String())
	}
}

func get(t *testing.T, h http.Handler, url string) (int, []byte) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, url, nil))
	body, _ := io.ReadAll(rec.Body)
	return rec.Code, body
}

func TestJaegerAPIGolden(t *testing.T) {
	db := openTestDB(t, t.TempDir(), DefaultOptions())
	mustWrite(t, db, fixtureTrace(1, base))
	mustWrite(t, db, fixtureTrace(2, base.Add(time.Minute)))
	h := db.JaegerHandler()
	us := func(d time.Duration) string { return fmt.Sprint(base.Add(d).UnixMicro()) }
	window := "&start=" + us(-time.Hour) + "&end=" + us(time.Hour)
	cases := []struct{ name, url string }{
		{"services.json", "/api/services"},
		{"service_operations.json", "/api/services/frontend/operations"},
		{"operations_client.json", "/api/operations?service=frontend&spanKind=client"},
		{"trace.json", "/api/traces/" + tid(1).String()},
		{"search_tag.json", "/api/traces?service=payment&tags=" + `%7B%22db.system%22%3A%22postgres%22%7D` + "&limit=1" + window},
		{"dependencies.json", "/api/dependencies?endTs=" + fmt.Sprint(base.Add(time.Hour).UnixMilli()) + "&lookback=7200000"},
		{"otlp_trace.json", "/api/v1/traces/" + tid(1).String()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := get(t, h, tc.url)
			if code != http.StatusOK {
				t.Fatalf("GET %s: %d %s", tc.url, code, body)
			}
			checkGolden(t, tc.name, body)
		})
	}
}

func TestJaegerAPITraceTree(t *testing.T) {
	db := openTestDB(t, t.TempDir(), DefaultOptions())
	mustWrite(t, db, fixtureTrace(1, base))
	_, body := get(t, db.JaegerHandler(), "/api/traces/"+tid(1).String())
	var resp struct {
		Data []jaegerTrace `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || len(resp.Data) != 1 {
		t.Fatalf("decode: %v %s", err, body)
	}
	tr := resp.Data[0]
	parents := map[string]string{}
	for _, s := range tr.Spans {
		p := ""
		for _, r := range s.References {
			if r.RefType == "CHILD_OF" {
				p = r.SpanID
			}
		}
		parents[tr.Processes[s.ProcessID].ServiceName+" "+s.OperationName+" "+fmt.Sprint(s.Duration)] = p
	}
	want := map[string]string{
		"frontend GET /checkout 100000": "",
		"frontend POST /pay 50000":      sid(1).String(),
		"payment POST /pay 46000":       sid(2).String(),
		"payment SELECT 10000":          sid(3).String(),
		"frontend GET /cart 25000":      sid(1).String(),
		"cart GET /cart 23000":          sid(5).String(),
	}
	if fmt.Sprint(parents) != fmt.Sprint(want) {
		t.Errorf("tree:\n got %v\nwant %v", parents, want)
	}
}

func TestJaegerAPIErrors(t *testing.T) {
	db := openTestDB(t, t.TempDir(), DefaultOptions())
	h := db.JaegerHandler()
	cases := []struct {
		url  string
		code int
		msg  string
	}{
		{"/api/traces/" + tid(1).String(), 404, "trace not found"},
		{"/api/traces/xyz", 400, "trace id"},
		{"/api/traces", 400, "parameter 'service' is required"},
		{"/api/traces?service=a&minDuration=fast", 400, "minDuration"},
		{"/api/traces?service=a&tags=notjson", 400, "tags"},
		{"/api/traces?service=a&limit=-1", 400, "limit"},
		{"/api/traces?service=a&start=x", 400, "start"},
		{"/api/operations", 400, "service"},
		{"/api/operations?service=a&spanKind=sideways", 400, "span kind"},
		{"/api/dependencies?endTs=soon", 400, "endTs"},
		{"/api/v1/traces/" + tid(1).String(), 404, "trace not found"},
	}
	for _, tc := range cases {
		code, body := get(t, h, tc.url)
		var resp jaegerResponse
		if err := json.Unmarshal(body, &resp); err != nil {
			t.Errorf("%s: not Jaeger JSON: %v", tc.url, err)
			continue
		}
		if code != tc.code || len(resp.Errors) != 1 || resp.Errors[0].Code != tc.code || !strings.Contains(resp.Errors[0].Msg, tc.msg) {
			t.Errorf("GET %s: %d %s; want %d mentioning %q", tc.url, code, body, tc.code, tc.msg)
		}
	}
}
