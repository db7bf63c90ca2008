package httpserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	vmetrics "github.com/VictoriaMetrics/metrics"
)

// Limit bounds a query API: at most maxConcurrent requests run at once, and each has timeout,
// waiting for its turn included, as Prometheus's engine bounds PromQL (query_timeout,
// max_concurrency). The request's context carries the deadline, so a store that honours it
// stops working on a query nobody waits for. A request that finds no slot in time is answered
// 503 with Retry-After, in the Prometheus API's error shape, and counted in
// vigil_query_refused_total{api}. Requests skip says yes to (live tails) pass untouched.
func Limit(api string, maxConcurrent int, timeout time.Duration, set *vmetrics.Set, skip func(*http.Request) bool) func(http.Handler) http.Handler {
	slots := make(chan struct{}, maxConcurrent)
	set.GetOrCreateGauge(fmt.Sprintf(`vigil_query_running{api=%q}`, api), func() float64 { return float64(len(slots)) })
	refused := set.GetOrCreateCounter(fmt.Sprintf(`vigil_query_refused_total{api=%q}`, api))
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if skip != nil && skip(r) {
				next.ServeHTTP(w, r)
				return
			}
			ctx, cancel := context.WithTimeout(r.Context(), timeout)
			defer cancel()
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				refused.Inc()
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Retry-After", "5")
				w.WriteHeader(http.StatusServiceUnavailable)
				_ = json.NewEncoder(w).Encode(map[string]string{"status": "error", "errorType": "unavailable",
					"error": fmt.Sprintf("%d %s queries already running; none finished within the %s query timeout", maxConcurrent, api, timeout)})
				return
			}
			defer func() { <-slots }()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}
