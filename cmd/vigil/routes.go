package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// health answers /healthz: the process is up and serving HTTP.
func health(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "Vigil is healthy.")
}

// ready answers /readyz: 200 once every component has started, else 503 naming those that
// have not (a store replaying its WAL, a listener not yet bound).
func (a *app) ready(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if waiting := a.mgr.NotReady(); len(waiting) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "Vigil is not ready: waiting for %s.\n", strings.Join(waiting, ", "))
		return
	}
	fmt.Fprintln(w, "Vigil is ready.")
}

// whenReady answers 503 for everything but the health endpoints until every component has
// started, as Prometheus does while its TSDB opens: a client retries instead of writing into
// a store that is not open yet.
func (a *app) whenReady(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if waiting := a.mgr.NotReady(); len(waiting) > 0 {
			w.Header().Set("Retry-After", "5")
			http.Error(w, "Vigil is not ready: waiting for "+strings.Join(waiting, ", "), http.StatusServiceUnavailable)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// reloadHTTP answers POST /-/reload.
func (a *app) reloadHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), time.Minute)
	defer cancel()
	if err := a.reload(ctx); err != nil {
		http.Error(w, "reload refused, the running configuration is unchanged: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "Configuration reloaded.")
}
