package logs

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzLogsQueryParams sends arbitrary parameters to every read endpoint of the log query API
// over a store holding the fixture: the answer is 200, 400 or 404 — a bad query or time is the
// client's mistake, told as such — never a 5xx or a panic.
func FuzzLogsQueryParams(f *testing.F) {
	for _, seed := range []struct{ endpoint, q, start, end, limit, extra string }{
		{"query", `level:error AND service:checkout "connection refused"`, "2026-01-01T00:00:00Z", "", "10", "backward"},
		{"query", `status:>=500 -level:debug`, "1767225600", "1767229200.5", "0", "forward"},
		{"query", `(a OR b) AND NOT c*`, "", "", "-1", "sideways"},
		{"volume", `service:api`, "", "", "", "level"},
		{"volume", `msg:"x`, "1767225600000000000", "yesterday", "", "service"},
		{"fields", "", "", "", "", ""},
		{"field/level/values", `*`, "", "", "3", ""},
		{"context", "", "", "", "", "1767225600-0-3"},
	} {
		f.Add(seed.endpoint, seed.q, seed.start, seed.end, seed.limit, seed.extra)
	}
	s := openTestStore(f, f.TempDir(), testOptions())
	writeFixture(f, s)
	h := s.APIHandler()
	f.Fuzz(func(t *testing.T, endpoint, q, start, end, limit, extra string) {
		path := "/api/v1/logs/" + endpoint
		if _, err := url.ParseRequestURI(path); err != nil || strings.ContainsAny(endpoint, "?# ") {
			path = "/api/v1/logs/query" // the client's URL parser refuses it before any server sees it
		}
		v := url.Values{"q": {q}, "start": {start}, "end": {end}, "limit": {limit}, "direction": {extra},
			"step": {limit}, "by": {extra}, "id": {extra}, "before": {limit}, "after": {limit}}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path+"?"+v.Encode(), nil))
		if rec.Code >= 500 {
			t.Fatalf("GET %s?%s: %d %s", path, v.Encode(), rec.Code, rec.Body)
		}
	})
}
