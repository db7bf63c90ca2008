package httpserver

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	vmetrics "github.com/VictoriaMetrics/metrics"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// Instrument is chi middleware counting requests by route pattern and status code. It must be
// installed with Router.Use so that it runs inside the router and sees the matched pattern.
func Instrument(server string, set *vmetrics.Set) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			code := ww.Status()
			if code == 0 {
				code = http.StatusOK // nothing written: net/http sends 200
			}
			handler := "unmatched"
			if rc := chi.RouteContext(r.Context()); rc != nil {
				if p := rc.RoutePattern(); p != "" {
					handler = handlerLabel(p, r.URL.Path, code)
				}
			}
			set.GetOrCreateCounter(fmt.Sprintf(`vigil_http_requests_total{server=%q,handler=%q,code="%s"}`,
				server, handler, strconv.Itoa(code))).Inc()
			set.GetOrCreatePrometheusHistogram(fmt.Sprintf(`vigil_http_request_duration_seconds{server=%q,handler=%q}`,
				server, handler)).UpdateDuration(start)
		})
	}
}

// handlerLabel names the endpoint of a request. A mounted sub-tree ("/api/v1/*") is named by
// its first path segment below the mount ("/api/v1/query_range"), so its endpoints are told
// apart; a 404 keeps the bare pattern, so unknown paths add no label values.
func handlerLabel(pattern, path string, code int) string {
	prefix, ok := strings.CutSuffix(pattern, "/*")
	if !ok || code == http.StatusNotFound || !strings.HasPrefix(path, prefix+"/") {
		return pattern
	}
	rest := path[len(prefix)+1:]
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		rest = rest[:i]
	}
	if rest == "" {
		return pattern
	}
	return prefix + "/" + rest
}
