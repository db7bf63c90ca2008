package ingest

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/vigilhq/vigil/traces"
)

// keepingSink keeps a copy of every span written.
type keepingSink struct {
	mu    sync.Mutex
	spans []traces.Span
}

func (k *keepingSink) WriteSpans(_ context.Context, spans []traces.Span) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.spans = append(k.spans, spans...)
	return nil
}

// Attributes past the count limit are dropped and string values past the length limit are
// cut at a rune boundary, on the span, its resource and its events, over protobuf (Vigil's
// own decoder) and JSON (pdata); the span is kept and the cuts are counted.
func TestTraceAttributeLimits(t *testing.T) {
	opts := DefaultTracesIngestOptions()
	opts.MaxAttributesPerSpan = 4
	opts.MaxAttributeValueLength = 10
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "limits")
	for i := range 6 {
		rs.Resource().Attributes().PutStr(fmt.Sprintf("r%d", i), "v")
	}
	sp := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	sp.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	sp.SetSpanID(pcommon.SpanID{1, 2, 3, 4, 5, 6, 7, 8})
	sp.SetName("op")
	now := time.Now()
	sp.SetStartTimestamp(pcommon.NewTimestampFromTime(now.Add(-time.Second)))
	sp.SetEndTimestamp(pcommon.NewTimestampFromTime(now))
	sp.Attributes().PutStr("long", "ééééééééé") // 18 bytes: cut to 10 (5 runes), not mid-rune
	sp.Attributes().PutInt("n", 7)
	for i := range 5 {
		sp.Attributes().PutStr(fmt.Sprintf("a%d", i), "x")
	}
	ev := sp.Events().AppendEmpty()
	ev.SetName("exception")
	ev.Attributes().PutStr("exception.stacktrace", strings.Repeat("s", 100))

	req := ptraceotlp.NewExportRequestFromTraces(td)
	for _, enc := range []string{"application/x-protobuf", "application/json"} {
		t.Run(enc, func(t *testing.T) {
			var body []byte
			var err error
			if enc == "application/json" {
				body, err = req.MarshalJSON()
			} else {
				body, err = req.MarshalProto()
			}
			if err != nil {
				t.Fatal(err)
			}
			sink, set := &keepingSink{}, metrics.NewSet()
			h, err := NewOTLPTraces(sink, opts, set, nil)
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(http.MethodPost, "/v1/traces", bytes.NewReader(body))
			r.Header.Set("Content-Type", enc)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if len(sink.spans) != 1 {
				t.Fatalf("%d spans stored, want the span kept", len(sink.spans))
			}
			s := sink.spans[0]
			if len(s.Attributes) != 4 || len(s.Resource) != 4 {
				t.Errorf("%d span and %d resource attributes, want 4 and 4", len(s.Attributes), len(s.Resource))
			}
			if got := s.Attributes[0].Value.Str(); got != "ééééé" {
				t.Errorf("long value cut to %q, want %q", got, "ééééé")
			}
			if got := s.Events[0].Attributes[0].Value.Str(); got != strings.Repeat("s", 10) {
				t.Errorf("event attribute cut to %q", got)
			}
			proto := "otlp_http"
			if v := set.GetOrCreateCounter(fmt.Sprintf(`vigil_ingest_truncated_total{signal="traces",protocol=%q,what="attribute"}`, proto)).Get(); v != 5 {
				t.Errorf("dropped attributes counted = %d, want 5 (3 on the span, 2 on the resource)", v)
			}
			if v := set.GetOrCreateCounter(fmt.Sprintf(`vigil_ingest_truncated_total{signal="traces",protocol=%q,what="attribute_value"}`, proto)).Get(); v != 2 {
				t.Errorf("cut values counted = %d, want 2", v)
			}
		})
	}
}
