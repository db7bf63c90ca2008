package traces

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzJaegerQueryParams sends arbitrary query parameters to every Jaeger API path over a store
// holding one trace: the answer is 200, 400 or 404, never a 5xx or a panic.
func FuzzJaegerQueryParams(f *testing.F) {
	for _, seed := range []struct{ path, service, operation, tags, minD, maxD, start, end, limit, lookback string }{
		{"/api/traces", "frontend", "GET /checkout", `{"http.method":"GET"}`, "10ms", "1s", "1772359200000000", "1772362800000000", "20", ""},
		{"/api/traces", "payment", "", "error=true amount=12.5", "1.5ms", "", "", "", "-1", ""},
		{"/api/traces", "", "", `{"bad json`, "x", "y", "z", "w", "99999999999", ""},
		{"/api/dependencies", "", "", "", "", "", "", "1772362800000", "", "3600000"},
		{"/api/v1/traces/0a0102030405060708090a0b0c0d0e01/tree", "", "", "", "", "", "", "", "5", ""},
		{"/api/traces/0a0102030405060708090a0b0c0d0e01", "", "", "", "", "", "", "", "", ""},
		{"/api/operations", "frontend", "", "", "", "", "", "", "", ""},
	} {
		f.Add(seed.path, seed.service, seed.operation, seed.tags, seed.minD, seed.maxD, seed.start, seed.end, seed.limit, seed.lookback)
	}
	db := openTestDB(f, f.TempDir(), DefaultOptions())
	if err := db.WriteSpans(f.Context(), fixtureTrace(1, base)); err != nil {
		f.Fatal(err)
	}
	h := db.JaegerHandler()
	f.Fuzz(func(t *testing.T, path, service, operation, tags, minD, maxD, start, end, limit, lookback string) {
		if _, err := url.ParseRequestURI(path); err != nil || !strings.HasPrefix(path, "/api/") || strings.ContainsAny(path, "?# ") {
			path = "/api/traces" // the client's URL parser refuses it before any server sees it
		}
		v := url.Values{"service": {service}, "operation": {operation}, "tags": {tags}, "minDuration": {minD},
			"maxDuration": {maxD}, "start": {start}, "end": {end}, "limit": {limit}, "lookback": {lookback},
			"endTs": {end}, "parent": {service}, "depth": {limit}, "spanKind": {operation}}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path+"?"+v.Encode(), nil))
		if rec.Code >= 500 {
			t.Fatalf("GET %s?%s: %d %s", path, v.Encode(), rec.Code, rec.Body)
		}
	})
}
