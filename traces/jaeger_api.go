package traces

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
)

const (
	// defaultLookback is the search window when a request names no start (Jaeger's
	// query.lookback default is two days).
	defaultLookback = 48 * time.Hour
	// maxSearchLimit bounds limit= (the Jaeger UI offers up to 1500).
	maxSearchLimit = 1500
)

// JaegerHandler serves the Jaeger query HTTP API (what the Jaeger UI and Grafana's Jaeger
// data source call) and OTLP JSON for one trace. Routes, with full paths:
//
//	GET /api/services
//	GET /api/services/{service}/operations
//	GET /api/operations?service=&spanKind=
//	GET /api/traces?service=&operation=&tags=&minDuration=&maxDuration=&start=&end=&lookback=&limit=&traceID=
//	GET /api/traces/{traceID}?start=&end=
//	GET /api/dependencies?endTs=&lookback=
//	GET /api/v1/traces/{traceID}   (OTLP JSON: an ExportTraceServiceRequest)
//	GET /api/v1/traces/{traceID}/tree?parent=&depth=&limit=   (part of the span tree, tree_api.go)
//	GET /api/v1/traces/{traceID}/spans/{spanID}               (one span in full)
//
// Bad parameters answer 400 and an unknown trace 404, in Jaeger's error shape.
func (db *DB) JaegerHandler() http.Handler {
	r := chi.NewRouter()
	r.Get("/api/services", db.serveServices)
	r.Get("/api/services/{service}/operations", db.serveServiceOperations)
	r.Get("/api/operations", db.serveOperations)
	r.Get("/api/traces", db.serveSearch)
	r.Get("/api/traces/{traceID}", db.serveTrace)
	r.Get("/api/dependencies", db.serveDependencies)
	r.Get("/api/v1/traces/{traceID}", db.serveOTLPTrace)
	r.Get("/api/v1/traces/{traceID}/tree", db.serveTree)
	r.Get("/api/v1/traces/{traceID}/spans/{spanID}", db.serveSpan)
	return r
}

func writeJaeger(w http.ResponseWriter, code int, resp jaegerResponse) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(resp)
}

func writeJaegerError(w http.ResponseWriter, code int, err error) {
	writeJaeger(w, code, jaegerResponse{Errors: []jaegerError{{Code: code, Msg: err.Error()}}})
}

// writeStoreError maps a store error: a deadline or cancellation is 503, anything else 500.
func writeStoreError(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || errors.Is(err, ErrClosed) {
		code = http.StatusServiceUnavailable
	}
	writeJaegerError(w, code, err)
}

func (db *DB) serveServices(w http.ResponseWriter, r *http.Request) {
	svcs, err := db.Services(r.Context())
	if err != nil {
		writeStoreError(w, err)
		return
	}
	if svcs == nil {
		svcs = []string{}
	}
	writeJaeger(w, http.StatusOK, jaegerResponse{Data: svcs, Total: len(svcs)})
}

func (db *DB) serveServiceOperations(w http.ResponseWriter, r *http.Request) {
	ops, err := db.Operations(r.Context(), chi.URLParam(r, "service"), SpanKindUnspecified)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	names := []string{}
	for _, op := range ops {
		if len(names) == 0 || names[len(names)-1] != op.Name {
			names = append(names, op.Name)
		}
	}
	writeJaeger(w, http.StatusOK, jaegerResponse{Data: names, Total: len(names)})
}

func (db *DB) serveOperations(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	service := q.Get("service")
	if service == "" {
		writeJaegerError(w, http.StatusBadRequest, errors.New("parameter 'service' is required"))
		return
	}
	kind := SpanKindUnspecified
	if k := q.Get("spanKind"); k != "" {
		var ok bool
		if kind, ok = ParseSpanKind(k); !ok || kind == SpanKindUnspecified {
			writeJaegerError(w, http.StatusBadRequest, fmt.Errorf("unsupported span kind %q: want server, client, producer, consumer or internal", k))
			return
		}
	}
	ops, err := db.Operations(r.Context(), service, kind)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	data := make([]jaegerOperation, 0, len(ops))
	for _, op := range ops {
		data = append(data, jaegerOperation{Name: op.Name, SpanKind: op.Kind.String()})
	}
	writeJaeger(w, http.StatusOK, jaegerResponse{Data: data, Total: len(data)})
}

func (db *DB) serveTrace(w http.ResponseWriter, r *http.Request) {
	id, err := ParseTraceID(chi.URLParam(r, "traceID"))
	if err != nil {
		writeJaegerError(w, http.StatusBadRequest, err)
		return
	}
	start, end, err := parseOptionalWindow(r)
	if err != nil {
		writeJaegerError(w, http.StatusBadRequest, err)
		return
	}
	spans, err := collectTrace(r.Context(), db, id, start, end)
	switch {
	case errors.Is(err, ErrTraceNotFound):
		writeJaegerError(w, http.StatusNotFound, errors.New("trace not found"))
		return
	case err != nil:
		writeStoreError(w, err)
		return
	}
	writeJaeger(w, http.StatusOK, jaegerResponse{Data: []jaegerTrace{toJaegerTrace(spans)}, Total: 1})
}

func collectTrace(ctx context.Context, db *DB, id TraceID, start, end time.Time) ([]Span, error) {
	var spans []Span
	for s, err := range db.Trace(ctx, id, start, end) {
		if err != nil {
			return nil, err
		}
		spans = append(spans, s)
	}
	return spans, nil
}

// parseOptionalWindow reads start= and end= (µs since the epoch) of a trace lookup.
func parseOptionalWindow(r *http.Request) (start, end time.Time, err error) {
	q := r.URL.Query()
	if v := q.Get("start"); v != "" {
		if start, err = parseMicros("start", v); err != nil {
			return start, end, err
		}
	}
	if v := q.Get("end"); v != "" {
		if end, err = parseMicros("end", v); err != nil {
			return start, end, err
		}
	}
	return start, end, nil
}

func parseMicros(name, v string) (time.Time, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("unable to parse param '%s': %w", name, err)
	}
	return time.UnixMicro(n).UTC(), nil
}

func (db *DB) serveSearch(w http.ResponseWriter, r *http.Request) {
	q, ids, err := parseSearch(r, time.Now())
	if err != nil {
		writeJaegerError(w, http.StatusBadRequest, err)
		return
	}
	ctx := r.Context()
	var resp jaegerResponse
	traces := []jaegerTrace{}
	if len(ids) > 0 { // traceID=...: a lookup of several traces
		for _, id := range ids {
			spans, err := collectTrace(ctx, db, id, time.Time{}, time.Time{})
			switch {
			case errors.Is(err, ErrTraceNotFound):
				resp.Errors = append(resp.Errors, jaegerError{Code: http.StatusNotFound, Msg: "trace not found", TraceID: id.String()})
				continue
			case err != nil:
				writeStoreError(w, err)
				return
			}
			traces = append(traces, toJaegerTrace(spans))
		}
	} else {
		for spans, err := range db.FindTraces(ctx, q) {
			if errors.Is(err, ErrSearchLimit) {
				resp.Errors = append(resp.Errors, jaegerError{Code: http.StatusRequestEntityTooLarge, Msg: err.Error()})
				break
			}
			if err != nil {
				writeStoreError(w, err)
				return
			}
			traces = append(traces, toJaegerTrace(spans))
		}
	}
	resp.Data, resp.Total = traces, len(traces)
	writeJaeger(w, http.StatusOK, resp)
}

// parseSearch reads the parameters of GET /api/traces as Jaeger's query parser does.
func parseSearch(r *http.Request, now time.Time) (Query, []TraceID, error) {
	v := r.URL.Query()
	var ids []TraceID
	for _, s := range v["traceID"] {
		id, err := ParseTraceID(s)
		if err != nil {
			return Query{}, nil, fmt.Errorf("unable to parse param 'traceID': %w", err)
		}
		ids = append(ids, id)
	}
	q := Query{Service: v.Get("service"), Operation: v.Get("operation"), Limit: 100}
	if q.Service == "" && len(ids) == 0 {
		return q, nil, errors.New("parameter 'service' is required")
	}
	if q.Operation != "" && q.Service == "" {
		return q, nil, errors.New("parameter 'operation' requires 'service'")
	}
	var err error
	q.End = now
	if s := v.Get("end"); s != "" {
		if q.End, err = parseMicros("end", s); err != nil {
			return q, nil, err
		}
	}
	lookback := defaultLookback
	if s := v.Get("lookback"); s != "" && s != "custom" {
		if lookback, err = time.ParseDuration(s); err != nil || lookback <= 0 {
			return q, nil, fmt.Errorf("unable to parse param 'lookback': %q is not a positive duration", s)
		}
	}
	q.Start = q.End.Add(-lookback)
	if s := v.Get("start"); s != "" {
		if q.Start, err = parseMicros("start", s); err != nil {
			return q, nil, err
		}
	}
	if q.Start.After(q.End) {
		return q, nil, errors.New("'start' is after 'end'")
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return q, nil, fmt.Errorf("unable to parse param 'limit': %q is not a non-negative integer", s)
		}
		if n > 0 {
			q.Limit = min(n, maxSearchLimit)
		}
	}
	for _, p := range []struct {
		name string
		dst  *time.Duration
	}{{"minDuration", &q.MinDuration}, {"maxDuration", &q.MaxDuration}} {
		if s := v.Get(p.name); s != "" {
			d, err := time.ParseDuration(s)
			if err != nil || d < 0 {
				return q, nil, fmt.Errorf("unable to parse param '%s': %q is not a duration such as 100ms or 1.5s", p.name, s)
			}
			*p.dst = d
		}
	}
	if q.MaxDuration > 0 && q.MinDuration > q.MaxDuration {
		return q, nil, errors.New("'maxDuration' must be greater than 'minDuration'")
	}
	q.Tags = map[string]string{}
	for _, s := range v["tags"] {
		var m map[string]string
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			return q, nil, fmt.Errorf("unable to parse param 'tags': want a JSON object of strings: %w", err)
		}
		for k, val := range m {
			q.Tags[k] = val
		}
	}
	for _, s := range v["tag"] {
		k, val, ok := strings.Cut(s, ":")
		if !ok {
			return q, nil, fmt.Errorf("malformed 'tag' parameter %q: want key:value", s)
		}
		q.Tags[k] = val
	}
	return q, ids, nil
}

func (db *DB) serveDependencies(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	end := time.Now()
	if s := v.Get("endTs"); s != "" {
		ms, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			writeJaegerError(w, http.StatusBadRequest, fmt.Errorf("unable to parse param 'endTs': %w", err))
			return
		}
		end = time.UnixMilli(ms)
	}
	lookback := 24 * time.Hour
	if s := v.Get("lookback"); s != "" {
		ms, err := strconv.ParseInt(s, 10, 64)
		if err != nil || ms <= 0 {
			writeJaegerError(w, http.StatusBadRequest, fmt.Errorf("unable to parse param 'lookback': %q is not a positive number of milliseconds", s))
			return
		}
		lookback = time.Duration(ms) * time.Millisecond
	}
	deps, err := db.Dependencies(r.Context(), end.Add(-lookback), end)
	var resp jaegerResponse
	if errors.Is(err, ErrSearchLimit) {
		resp.Errors = []jaegerError{{Code: http.StatusRequestEntityTooLarge, Msg: err.Error()}}
	} else if err != nil {
		writeStoreError(w, err)
		return
	}
	data := make([]jaegerDependency, 0, len(deps))
	for _, d := range deps {
		data = append(data, jaegerDependency{Parent: d.Parent, Child: d.Child, CallCount: d.CallCount})
	}
	resp.Data, resp.Total = data, len(data)
	writeJaeger(w, http.StatusOK, resp)
}

func (db *DB) serveOTLPTrace(w http.ResponseWriter, r *http.Request) {
	id, err := ParseTraceID(chi.URLParam(r, "traceID"))
	if err != nil {
		writeJaegerError(w, http.StatusBadRequest, err)
		return
	}
	spans, err := collectTrace(r.Context(), db, id, time.Time{}, time.Time{})
	switch {
	case errors.Is(err, ErrTraceNotFound):
		writeJaegerError(w, http.StatusNotFound, errors.New("trace not found"))
		return
	case err != nil:
		writeStoreError(w, err)
		return
	}
	body, err := OTLPJSON(spans)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}
