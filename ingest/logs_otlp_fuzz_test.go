package ingest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzOTLPLogsJSON posts arbitrary OTLP/HTTP JSON log exports: the answer is 200 (with partial
// success) or 400, and every stored record is well formed.
func FuzzOTLPLogsJSON(f *testing.F) {
	for _, s := range []string{
		`{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}}]},"scopeLogs":[{"logRecords":[{"timeUnixNano":"1767225600000000000","severityText":"ERROR","body":{"stringValue":"boom"},"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","attributes":[{"key":"http.status","value":{"intValue":"500"}}]}]}]}]}`,
		`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"kvlistValue":{"values":[{"key":"msg","value":{"stringValue":"x"}},{"key":"n","value":{"doubleValue":1.5}}]}},"traceId":"abc"}]}]}]}`,
		`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"99999999999999999999","body":{"arrayValue":{"values":[{"boolValue":true}]}}}]}]}]}`,
		`{"resourceLogs":[]}`,
		`{`,
	} {
		f.Add([]byte(s))
	}
	opts := fuzzLogsOptions()
	f.Fuzz(func(t *testing.T, body []byte) {
		sink := &recordingSink{}
		h := NewOTLPLogs(sink, opts, nil, nil)
		req := httptest.NewRequest(http.MethodPost, "/v1/logs", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		checkFuzzRecords(t, sink.records(), true)
	})
}
