package httpserver

import (
	"fmt"
	"net/http"
	"strconv"
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
			handler := "unmatched"
			if rc := chi.RouteContext(r.Context()); rc != nil {
				if p := rc.RoutePattern(); p != "" {
					handler = p
				}
			}
			code := ww.Status()
			if code == 0 {
				code = http.StatusOK // nothing written: net/http sends 200
			}
			set.GetOrCreateCounter(fmt.Sprintf(`vigil_http_requests_total{server=%q,handler=%q,code="%s"}`,
				server, handler, strconv.Itoa(code))).Inc()
			set.GetOrCreatePrometheusHistogram(fmt.Sprintf(`vigil_http_request_duration_seconds{server=%q,handler=%q}`,
				server, handler)).UpdateDuration(start)
		})
	}
}
