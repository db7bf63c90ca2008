package ingest

import (
	"testing"
	"time"
)

// FuzzZipkin feeds arbitrary bodies to the Zipkin v2 decoder: it must never panic, and
// every span it keeps must pass the checks the store relies on.
func FuzzZipkin(f *testing.F) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Add([]byte(zipkinBody(now)))
	f.Add([]byte(`[]`))
	f.Add([]byte(`[{"traceId":"1","id":"2","timestamp":1,"duration":1}]`))
	f.Add([]byte(`[{"traceId":"463ac35c9f6413ad48485a3953bb6124","id":"a2fb4a1d1a96d312","parentId":"","timestamp":1772366400000000,"duration":-5}]`))
	f.Add([]byte(`[{"traceId":"zz","id":"2","tags":{"error":""},"annotations":[{"timestamp":-1}]}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		c := &spanCheck{now: now, skew: time.Hour}
		spans, err := decodeZipkinV2(body, c)
		if err != nil {
			if len(spans) != 0 {
				t.Fatalf("error %v with %d spans", err, len(spans))
			}
			return
		}
		if len(spans)+c.rejected != c.total {
			t.Fatalf("kept %d + rejected %d != seen %d", len(spans), c.rejected, c.total)
		}
		for _, s := range spans {
			if s.TraceID.IsZero() || s.SpanID.IsZero() || s.End.Before(s.Start) || s.Start.After(now.Add(time.Hour)) || s.Service == "" {
				t.Fatalf("kept an invalid span: %+v", s)
			}
		}
	})
}
