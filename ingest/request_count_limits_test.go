package ingest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// A request with more lines or spans than logs.max_lines_per_request /
// traces.max_spans_per_request is refused whole with 413, nothing stored.
func TestPerRequestCountLimits(t *testing.T) {
	lopts := testLogsOptions()
	lopts.MaxLinesPerRequest = 2
	topts := DefaultTracesIngestOptions()
	topts.MaxSpansPerRequest = 1

	ld := oneLog()
	for range 2 {
		ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().AppendEmpty().Body().SetStr("more")
	}
	otlpLogs, err := plogotlp.NewExportRequestFromLogs(ld).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	td := ptrace.NewTraces()
	ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty()
	for i := range 2 {
		sp := ss.Spans().AppendEmpty()
		sp.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
		sp.SetSpanID(pcommon.SpanID{1, 2, 3, 4, 5, 6, 7, byte(i + 1)})
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(time.Now().Add(-time.Second)))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(time.Now()))
	}
	otlpTraces, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}

	logSink, spanSink := &recordingSink{}, &keepingSink{}
	traceHandler, err := NewOTLPTraces(spanSink, topts, metrics.NewSet(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, contentType, body, wantInBody string
		h                                   http.Handler
	}{
		{"json lines", "application/x-ndjson", "{\"msg\":\"a\"}\n{\"msg\":\"b\"}\n{\"msg\":\"c\"}\n", "max_lines_per_request",
			NewJSONLinesHandler(logSink, lopts, metrics.NewSet(), nil)},
		{"otlp logs", "application/json", string(otlpLogs), "max_lines_per_request",
			NewOTLPLogs(logSink, lopts, metrics.NewSet(), nil)},
		{"otlp traces", "application/x-protobuf", string(otlpTraces), "",
			traceHandler},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader([]byte(tc.body)))
			req.Header.Set("Content-Type", tc.contentType)
			rec := httptest.NewRecorder()
			tc.h.ServeHTTP(rec, req)
			if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), tc.wantInBody) {
				t.Fatalf("got %d %q, want 413 naming the limit", rec.Code, rec.Body)
			}
			if rec.Header().Get("Retry-After") != "" {
				t.Error("a request that can never fit is told to retry")
			}
		})
	}
	if n := len(logSink.records()); n != 0 {
		t.Errorf("%d log records stored from refused requests", n)
	}
	if n := len(spanSink.spans); n != 0 {
		t.Errorf("%d spans stored from a refused request", n)
	}
}
