package main

import (
	"net/http"
	"sync/atomic"
)

// lateHandler is a route whose handler exists only once its component has started (the
// metrics API needs the opened TSDB), while the router must be complete before the main
// listener opens. Until then it answers 503, as the readiness gate in front of it also does.
type lateHandler struct{ h atomic.Pointer[http.Handler] }

func (l *lateHandler) set(h http.Handler) { l.h.Store(&h) }

func (l *lateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := l.h.Load()
	if h == nil {
		w.Header().Set("Retry-After", "5")
		http.Error(w, "this endpoint's component has not started", http.StatusServiceUnavailable)
		return
	}
	(*h).ServeHTTP(w, r)
}
