package ingest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/klauspost/compress/zstd"

	"github.com/vigilhq/vigil/logs"
)

const jsonLinesSample = `{"timestamp":"2025-03-01T10:00:00.123456789Z","level":"ERROR","msg":"connection refused","service":"checkout","trace_id":"4BF92F3577B34DA6A3CE929D0E0E4736","span_id":"00f067aa0ba902b7","http":{"status":503,"method":"POST","retry":true},"tags":["a", "b"],"user":null,"empty":{}}
{"ts":1740823200,"lvl":"warning","message":"slow query","db.rows":12.5,"service":{"name":"orders","version":"1.2.3"}}

  {"time":1740823200123,"severity":30,"msg":"pino style","pid":42}
{"@timestamp":"2025-03-01 10:00:00.5+01:00","log":{"level":"Info"},"message":"ecs","trace.id":"not-hex"}
{"ts":"1740823200.25","level":"debug","msg":"epoch seconds as text","time":"kept as a field"}
{"msg":"no time: receive time","note":"caf\u00e9 \"quoted\""}
`

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zstdBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	zw, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer zw.Close()
	return zw.EncodeAll(b, nil)
}

func TestJSONLinesGolden(t *testing.T) {
	small := testLogsOptions()
	small.MaxLineBytes = 120
	for _, tc := range []struct {
		name     string
		query    string
		encoding string
		body     string
		opts     *LogsIngestOptions
	}{
		{name: "lines", body: jsonLinesSample},
		{name: "lines_gzip", encoding: "gzip", body: jsonLinesSample},
		{name: "lines_zstd", encoding: "zstd", body: jsonLinesSample},
		{name: "array", body: "[\n {\"msg\":\"one\",\"level\":\"info\"} ,\n {\"msg\":\"two\",\"n\":-1.5e3},\"not an object\"\n]\n"},
		{name: "query_defaults", query: "?service=billing&_field.env=prod&_field.level=info&_field.region=eu",
			body: `{"msg":"takes the defaults"}` + "\n" + `{"msg":"keeps its own","service":"api","level":"warn","env":"dev"}`},
		{name: "partial", opts: &small, body: strings.Join([]string{
			`{"msg":"good one"}`,
			`["an","array"]`,
			`{"msg":"broken"`,
			`{"msg":"bad time","time":"yesterday"}`,
			`{"msg":"` + strings.Repeat("x", 200) + `"}`,
			`{"msg":"negative time","ts":-5}`,
			`{"msg":"boolean time","time":true}`,
		}, "\n")},
		{name: "nothing_valid", body: "not json\n42\n"},
		{name: "empty", body: "\n\n"},
		{name: "bad_array", body: `[{"msg":"a"}, {"msg":`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := &recordingSink{}
			opts := testLogsOptions()
			if tc.opts != nil {
				opts = *tc.opts
			}
			h := NewJSONLinesHandler(sink, opts, metrics.NewSet(), nil)
			body := []byte(tc.body)
			switch tc.encoding {
			case "gzip":
				body = gzipBytes(t, body)
			case "zstd":
				body = zstdBytes(t, body)
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/logs"+tc.query, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/x-ndjson")
			if tc.encoding != "" {
				req.Header.Set("Content-Encoding", tc.encoding)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			name := "jsonlines_" + tc.name
			if tc.encoding != "" { // same outcome as without encoding
				name = "jsonlines_lines"
			}
			checkGolden(t, name, resp.StatusCode, got, sink.records())
		})
	}
}

func TestJSONLinesRefusals(t *testing.T) {
	bomb := gzipBytes(t, bytes.Repeat([]byte(`{"msg":"x"}`+"\n"), 20000)) // ~240 KB inflated
	for _, tc := range []struct {
		name     string
		method   string
		encoding string
		body     []byte
		sinkErr  error
		limit    int64
		want     int
		reason   rejectReason
	}{
		{name: "bad gzip", encoding: "gzip", body: []byte("not gzip"), want: 400, reason: reasonBadEncoding},
		{name: "truncated gzip", encoding: "gzip", body: gzipBytes(t, []byte(jsonLinesSample))[:40], want: 400, reason: reasonBadEncoding},
		{name: "bad zstd", encoding: "zstd", body: []byte("not zstd at all"), want: 400, reason: reasonBadEncoding},
		{name: "unsupported encoding", encoding: "br", body: []byte(`{"msg":"x"}`), want: 415, reason: reasonUnsupportedEncode},
		{name: "over limit", body: bytes.Repeat([]byte(`{"msg":"x"}`+"\n"), 200), limit: 1000, want: 413, reason: reasonTooLarge},
		{name: "gzip bomb", encoding: "gzip", body: bomb, limit: 100_000, want: 413, reason: reasonTooLarge},
		{name: "zstd bomb", encoding: "zstd", body: zstdBytes(t, bytes.Repeat([]byte("{}\n"), 100_000)), limit: 100_000, want: 413, reason: reasonTooLarge},
		{name: "sink fails", body: []byte(`{"msg":"x"}`), sinkErr: errors.New("disk full"), want: 503, reason: reasonStorage},
		{name: "GET", method: http.MethodGet, want: 405, reason: reasonBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := metrics.NewSet()
			sink := &recordingSink{err: tc.sinkErr}
			opts := testLogsOptions()
			opts.MaxRequestBytes = tc.limit
			h := NewJSONLinesHandler(sink, opts, set, nil)
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			req := httptest.NewRequest(method, "/api/v1/logs", bytes.NewReader(tc.body))
			if tc.encoding != "" {
				req.Header.Set("Content-Encoding", tc.encoding)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.want, rec.Body)
			}
			if !strings.Contains(rec.Body.String(), `"error":`) {
				t.Errorf("no error message in %s", rec.Body)
			}
			if n := len(sink.records()); n != 0 {
				t.Errorf("%d records stored", n)
			}
			if got := counterValue(set, logsRejectedName(protoJSONLines, tc.reason)); got != 1 {
				t.Errorf("rejected{reason=%s} = %d, want 1", tc.reason, got)
			}
			if got := counterValue(set, logsRequestsName(protoJSONLines, strconv.Itoa(tc.want))); got != 1 {
				t.Errorf("requests{code=%d} = %d, want 1", tc.want, got)
			}
		})
	}
}

func TestJSONLinesMetrics(t *testing.T) {
	set := metrics.NewSet()
	opts := testLogsOptions()
	h := NewJSONLinesHandler(&recordingSink{}, opts, set, nil)
	body := `{"msg":"a"}` + "\n" + `[1]` + "\n" + `{"msg":"b","ts":"never"}` + "\n" + `{"msg":"c"}` + "\n" + `"x"`
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/logs", strings.NewReader(body)))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	for name, want := range map[string]uint64{
		logsItemsName(protoJSONLines):                          2,
		logsRejectedItemsName(protoJSONLines, reasonNotObject): 2,
		logsRejectedItemsName(protoJSONLines, reasonBadTime):   1,
		logsRejectedName(protoJSONLines, reasonNotObject):      1, // once per request, first reason
		logsRequestsName(protoJSONLines, "200"):                1,
	} {
		if got := counterValue(set, name); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
}

func TestParseLogTime(t *testing.T) {
	f := func(in string, kind logs.FieldKind, want string) {
		t.Helper()
		got, err := parseLogTime(in, kind)
		if want == "error" {
			if err == nil {
				t.Errorf("parseLogTime(%q) = %v, want an error", in, got)
			}
			return
		}
		if err != nil {
			t.Errorf("parseLogTime(%q): %v", in, err)
			return
		}
		if s := got.UTC().Format(time.RFC3339Nano); s != want {
			t.Errorf("parseLogTime(%q) = %s, want %s", in, s, want)
		}
	}
	f("2025-03-01T10:00:00Z", logs.KindString, "2025-03-01T10:00:00Z")
	f("2025-03-01T10:00:00.5+02:00", logs.KindString, "2025-03-01T08:00:00.5Z")
	f("2025-03-01 10:00:00Z", logs.KindString, "2025-03-01T10:00:00Z")
	f("1740823200", logs.KindNumber, "2025-03-01T10:00:00Z")
	f("1740823200.123456789", logs.KindNumber, "2025-03-01T10:00:00.123456789Z")
	f("1740823200123", logs.KindNumber, "2025-03-01T10:00:00.123Z")
	f("1740823200123.5", logs.KindNumber, "2025-03-01T10:00:00.1235Z")
	f("1740823200123456", logs.KindNumber, "2025-03-01T10:00:00.123456Z")
	f("1740823200123456789", logs.KindNumber, "2025-03-01T10:00:00.123456789Z")
	f("1.7408232e9", logs.KindNumber, "2025-03-01T10:00:00Z")
	f("1740823200", logs.KindString, "2025-03-01T10:00:00Z")
	f("0", logs.KindNumber, "1970-01-01T00:00:00Z")
	f("-1", logs.KindNumber, "error")
	f("99999999999999999999", logs.KindNumber, "error")
	f("9e300", logs.KindNumber, "error")
	f("yesterday", logs.KindString, "error")
	f("true", logs.KindBool, "error")
	f("", logs.KindString, "error")
}

func TestLogLevelNormalise(t *testing.T) {
	f := func(in string, kind logs.FieldKind, want string) {
		t.Helper()
		if got := normaliseLevel(in, kind); got != want {
			t.Errorf("normaliseLevel(%q) = %q, want %q", in, got, want)
		}
	}
	f("ERROR", logs.KindString, "error")
	f("Warning", logs.KindString, "warn")
	f(" info ", logs.KindString, "info")
	f("CRITICAL", logs.KindString, "fatal")
	f("custom", logs.KindString, "custom")
	f("30", logs.KindNumber, "info")
	f("50", logs.KindNumber, "error")
	f("60", logs.KindNumber, "fatal")
	f("", logs.KindString, "")
}
