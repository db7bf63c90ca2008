package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/vigilhq/vigil/traces"
)

func zipkinBody(now time.Time) string {
	ts := now.Add(-time.Minute).UnixMicro()
	return fmt.Sprintf(`[
 {"traceId":"5af7183fb1d4cf5f","id":"6b221d5bc9e6496c","name":"get /api","kind":"SERVER","timestamp":%d,"duration":207000,
  "localEndpoint":{"serviceName":"backend","ipv4":"192.168.99.101","port":9000},
  "remoteEndpoint":{"ipv6":"::1","port":63720},
  "annotations":[{"timestamp":%d,"value":"wr"}],
  "tags":{"http.method":"GET","http.path":"/api","error":"boom"}},
 {"traceId":"5af7183fb1d4cf5f","parentId":"6b221d5bc9e6496c","id":"352bff9a74ca9ad2","name":"query","kind":"CLIENT","timestamp":%d,"duration":50000,
  "localEndpoint":{"serviceName":"backend"},"remoteEndpoint":{"serviceName":"mysql"}}
]`, ts, ts+1000, ts+1000)
}

func postZipkin(t *testing.T, z *Zipkin, body []byte, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/api/v2/spans", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	z.ServeHTTP(rec, req)
	return rec
}

func TestZipkinV2(t *testing.T) {
	db := openTraceDB(t)
	set := metrics.NewSet()
	z, err := NewZipkin(db, DefaultTracesIngestOptions(), set, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(zipkinBody(now)))
	zw.Close()
	if rec := postZipkin(t, z, gz.Bytes(), map[string]string{"Content-Encoding": "gzip"}); rec.Code != http.StatusAccepted {
		t.Fatalf("gzip post: %d %s", rec.Code, rec.Body)
	}
	id, _ := traces.ParseTraceID("5af7183fb1d4cf5f")
	spans, err := db.TraceSpans(context.Background(), id)
	if err != nil || len(spans) != 2 {
		t.Fatalf("stored: %d spans, %v", len(spans), err)
	}
	for _, s := range spans {
		switch s.Name {
		case "get /api":
			if s.Service != "backend" || s.Kind != traces.SpanKindServer || s.StatusCode != traces.StatusError ||
				s.StatusMessage != "boom" || s.Duration() != 207*time.Millisecond || len(s.Events) != 1 || !s.ParentSpanID.IsZero() {
				t.Errorf("server span: %+v", s)
			}
		case "query":
			if s.ParentSpanID.String() != "6b221d5bc9e6496c" || s.Kind != traces.SpanKindClient {
				t.Errorf("client span: %+v", s)
			}
			found := false
			for _, a := range s.Attributes {
				found = found || (a.Key == "peer.service" && a.Value.Str() == "mysql")
			}
			if !found {
				t.Errorf("client span lacks peer.service=mysql: %+v", s.Attributes)
			}
		default:
			t.Errorf("unexpected span %q", s.Name)
		}
	}
	if n := counterValue(set, `vigil_ingest_items_total{signal="traces",protocol="zipkin"}`); n != 2 {
		t.Errorf("items = %d, want 2", n)
	}

	bad := []struct {
		name, body string
		header     map[string]string
		code       int
	}{
		{"not json", `{"traceId":`, nil, 400},
		{"not an array", `{"traceId":"1"}`, nil, 400},
		{"all spans bad", `[{"traceId":"0000000000000000","id":"01","timestamp":1,"duration":1}]`, nil, 400},
		{"bad gzip", `not gzip`, map[string]string{"Content-Encoding": "gzip"}, 400},
		{"unknown encoding", `[]`, map[string]string{"Content-Encoding": "br"}, 415},
		{"protobuf", `[]`, map[string]string{"Content-Type": "application/x-protobuf"}, 415},
	}
	for _, tc := range bad {
		if rec := postZipkin(t, z, []byte(tc.body), tc.header); rec.Code != tc.code {
			t.Errorf("%s: got %d %s, want %d", tc.name, rec.Code, rec.Body, tc.code)
		}
	}
	// One good, one bad: 202 and the good one stored.
	mixed := fmt.Sprintf(`[{"traceId":"abc","id":"01","name":"ok","timestamp":%d,"duration":5},{"traceId":"abc","id":"zz","timestamp":1,"duration":1}]`, now.UnixMicro())
	if rec := postZipkin(t, z, []byte(mixed), nil); rec.Code != http.StatusAccepted {
		t.Errorf("mixed: got %d %s, want 202", rec.Code, rec.Body)
	}
	if spans, err := db.TraceSpans(context.Background(), traces.TraceID{15: 0xbc, 14: 0x0a}); err != nil || len(spans) != 1 {
		t.Errorf("mixed: stored %d, %v; want 1", len(spans), err)
	}
}
