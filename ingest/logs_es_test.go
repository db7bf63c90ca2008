package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/VictoriaMetrics/metrics"
	"github.com/go-chi/chi/v5"
)

// startES mounts the Elasticsearch handler under /es, as cmd/vigil does, with predictable ids.
func startES(t *testing.T, sink LogSink, opts LogsIngestOptions, set *metrics.Set) *httptest.Server {
	t.Helper()
	h := NewElasticsearchHandler(sink, opts, set, nil)
	n := 0
	h.(*esHandler).newID = func() string { n++; return fmt.Sprintf("vigil-id-%d", n) }
	r := chi.NewRouter()
	r.Mount("/es", h)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

func doES(t *testing.T, method, url string, body []byte, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	return resp, got
}

// TestESBulkFilebeat replays what Filebeat 8 does: handshake, license and set-up probes, then a
// gzip-compressed bulk of create actions into its data stream.
func TestESBulkFilebeat(t *testing.T) {
	sink := &recordingSink{}
	set := metrics.NewSet()
	srv := startES(t, sink, testLogsOptions(), set)

	resp, body := doES(t, http.MethodGet, srv.URL+"/es/", nil, nil)
	var info struct {
		Version struct {
			Number string `json:"number"`
		} `json:"version"`
		Tagline string `json:"tagline"`
	}
	if err := json.Unmarshal(body, &info); err != nil || resp.StatusCode != 200 {
		t.Fatalf("handshake: %d %s (%v)", resp.StatusCode, body, err)
	}
	if info.Version.Number != "8.17.0" || info.Tagline != "You Know, for Search" {
		t.Errorf("handshake = %+v", info)
	}
	if got := resp.Header.Get("X-Elastic-Product"); got != "Elasticsearch" {
		t.Errorf("X-Elastic-Product = %q", got)
	}
	for _, probe := range []struct {
		method, path string
		want         int
		contains     string
	}{
		{http.MethodHead, "/es/", 200, ""},
		{http.MethodGet, "/es/_license?human=false", 200, `"status":"active"`},
		{http.MethodGet, "/es/_xpack", 200, `"ilm"`},
		{http.MethodHead, "/es/_index_template/filebeat-8.17.0", 200, ""},
		{http.MethodPut, "/es/_ilm/policy/filebeat", 200, `"acknowledged":true`},
		{http.MethodGet, "/es/_cat/indices", 404, `"resource_not_found_exception"`},
	} {
		resp, body := doES(t, probe.method, srv.URL+probe.path, nil, nil)
		if resp.StatusCode != probe.want || !strings.Contains(string(body), probe.contains) {
			t.Errorf("%s %s = %d %s, want %d containing %s", probe.method, probe.path, resp.StatusCode, body, probe.want, probe.contains)
		}
	}

	bulk, err := os.ReadFile(filepath.Join("testdata", "logs", "filebeat_bulk.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	resp, body = doES(t, http.MethodPost, srv.URL+"/es/_bulk?filter_path=errors,items.*.error,items.*.status",
		gzipBytes(t, bulk), map[string]string{
			"Content-Type": "application/json; charset=UTF-8", "Accept": "application/json", "Content-Encoding": "gzip",
		})
	body = regexpTook.ReplaceAll(body, []byte(`"took":0`))
	checkGolden(t, "es_filebeat", resp.StatusCode, body, sink.records())
	if got := counterValue(set, logsItemsName(protoESBulk)); got != 2 {
		t.Errorf("items = %d, want 2", got)
	}
}

func TestESBulkItems(t *testing.T) {
	opts := testLogsOptions()
	opts.MaxLineBytes = 200
	sink := &recordingSink{}
	set := metrics.NewSet()
	srv := startES(t, sink, opts, set)
	body := strings.Join([]string{
		`{"index":{"_index":"app-logs","_id":"given-1"}}`,
		`{"time":"2025-03-01T10:00:00Z","level":"info","message":"indexed with an id"}`,
		`{"create":{}}`,
		`{"msg":"index from the path","service":"api"}`,
		`{"delete":{"_index":"app-logs","_id":"given-1"}}`,
		`{"update":{"_index":"app-logs","_id":"given-1"}}`,
		`{"doc":{"level":"warn"}}`,
		`{"index":{}}`,
		`not json`,
		`{"index":{}}`,
		`{"msg":"` + strings.Repeat("x", 200) + `"}`,
		`{"index":{}}`,
		`{"msg":"bad time","@timestamp":"soon"}`,
		``,
	}, "\n")
	resp, got := doES(t, http.MethodPost, srv.URL+"/es/fluentbit/_bulk", []byte(body), map[string]string{"Content-Type": "application/x-ndjson"})
	got = regexpTook.ReplaceAll(got, []byte(`"took":0`))
	checkGolden(t, "es_bulk_items", resp.StatusCode, got, sink.records())
	for name, want := range map[string]uint64{
		logsItemsName(protoESBulk):                                  2,
		logsRejectedItemsName(protoESBulk, reasonUnsupportedAction): 2,
		logsRejectedItemsName(protoESBulk, reasonBadJSON):           1,
		logsRejectedItemsName(protoESBulk, reasonTooLarge):          1,
		logsRejectedItemsName(protoESBulk, reasonBadTime):           1,
		logsRequestsName(protoESBulk, "200"):                        1,
	} {
		if got := counterValue(set, name); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
}

func TestESBulkRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		sinkErr    error
		want       int
		errType    string
	}{
		{"malformed action", "{\"index\":{}}\n{\"msg\":\"a\"}\n{oops}\n{\"msg\":\"b\"}\n", nil, 400, "illegal_argument_exception"},
		{"unknown action", "{\"upsert\":{}}\n{}\n", nil, 400, "illegal_argument_exception"},
		{"two actions in one line", "{\"index\":{},\"create\":{}}\n{}\n", nil, 400, "illegal_argument_exception"},
		{"action without document", "{\"index\":{\"_index\":\"a\"}}\n", nil, 400, "illegal_argument_exception"},
		{"empty", "\n", nil, 400, "illegal_argument_exception"},
		{"sink fails", "{\"index\":{\"_index\":\"a\"}}\n{\"msg\":\"x\"}\n", errors.New("disk full"), 503, "unavailable_shards_exception"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := &recordingSink{err: tc.sinkErr}
			srv := startES(t, sink, testLogsOptions(), nil)
			resp, body := doES(t, http.MethodPost, srv.URL+"/es/_bulk", []byte(tc.body), nil)
			if resp.StatusCode != tc.want || !strings.Contains(string(body), `"type":"`+tc.errType+`"`) {
				t.Fatalf("= %d %s, want %d with %s", resp.StatusCode, body, tc.want, tc.errType)
			}
			if n := len(sink.records()); n != 0 {
				t.Errorf("%d records stored", n)
			}
		})
	}
}
