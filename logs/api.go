package logs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
)

// APIHandler returns the log query API, serving full paths so it can be mounted with chi's
// r.Mount("/", h) or next to other routes with r.Handle("/api/v1/logs/*", h):
//
//	GET /api/v1/logs/query?q=&start=&end=&limit=&direction=backward|forward&total_limit=
//	GET /api/v1/logs/volume?q=&start=&end=&step=&by=level
//	GET /api/v1/logs/fields?start=&end=
//	GET /api/v1/logs/field/{name}/values?q=&start=&end=&limit=
//	GET /api/v1/logs/tail?q=              (Server-Sent Events, one "data:" line per log line)
//	GET /api/v1/logs/context?id=&before=&after=
//
// A query answers {"lines":[...],"total":N,"total_relation":"eq"|"gte"}: total is exact
// ("eq") unless counting it would mean verifying more than total_limit lines one by one
// (phrases, wildcards, ranges; default Options.QueryTotalLimit, 0 for always exact), in which
// case it is a lower bound ("gte", as Elasticsearch's hits.total.relation).
//
// Answers use the Prometheus/Loki envelope: {"status":"success","data":...} or
// {"status":"error","errorType":"bad_data","error":"..."} (400 for a bad query or parameter,
// 404 for an unknown line id, 503 when closed or timed out, 500 otherwise). Times accept
// RFC 3339, Unix seconds (up to 10 digits, with an optional fraction) and Unix nanoseconds,
// as Loki does. Each call builds an independent handler.
func (s *Store) APIHandler() http.Handler {
	r := chi.NewRouter()
	r.Get("/api/v1/logs/query", s.apiQuery)
	r.Get("/api/v1/logs/volume", s.apiVolume)
	r.Get("/api/v1/logs/fields", s.apiFields)
	r.Get("/api/v1/logs/field/{name}/values", s.apiFieldValues)
	r.Get("/api/v1/logs/tail", s.apiTail)
	r.Get("/api/v1/logs/context", s.apiContext)
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such log API endpoint")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusMethodNotAllowed, "bad_data", "method not allowed")
	})
	return r
}

// apiLine is a line's JSON shape. Raw is the line as sent (a JSON string: byte-identical
// for UTF-8 input, which every JSON-based protocol guarantees).
type apiLine struct {
	ID      string                     `json:"id"`
	Time    string                     `json:"time"`
	Service string                     `json:"service,omitempty"`
	Level   string                     `json:"level,omitempty"`
	Message string                     `json:"message,omitempty"`
	TraceID string                     `json:"trace_id,omitempty"`
	SpanID  string                     `json:"span_id,omitempty"`
	Fields  map[string]json.RawMessage `json:"fields,omitempty"`
	Raw     string                     `json:"raw"`
}

func toAPILine(l Line) apiLine {
	out := apiLine{
		ID: l.ID, Time: l.Time.UTC().Format(time.RFC3339Nano), Service: l.Service, Level: l.Level,
		Message: l.Message, TraceID: l.TraceID, SpanID: l.SpanID, Raw: string(l.Raw),
	}
	if len(l.Fields) > 0 {
		out.Fields = make(map[string]json.RawMessage, len(l.Fields))
		for _, f := range l.Fields {
			out.Fields[f.Key] = fieldJSON(f)
		}
	}
	return out
}

func fieldJSON(f Field) json.RawMessage {
	switch f.Kind {
	case KindNumber:
		if x, err := strconv.ParseFloat(f.Value, 64); err == nil && !math.IsInf(x, 0) && !math.IsNaN(x) && json.Valid([]byte(f.Value)) {
			return json.RawMessage(f.Value)
		}
	case KindBool:
		if f.Value == "true" || f.Value == "false" {
			return json.RawMessage(f.Value)
		}
	}
	b, _ := json.Marshal(f.Value)
	return b
}

func toAPILines(ls []Line) []apiLine {
	out := make([]apiLine, len(ls))
	for i, l := range ls {
		out[i] = toAPILine(l)
	}
	return out
}

func (s *Store) apiQuery(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	start, end, err := s.parseRange(v.Get("start"), v.Get("end"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_data", err.Error())
		return
	}
	limit, err := parseLimit(v.Get("limit"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_data", err.Error())
		return
	}
	dir := Backward
	switch v.Get("direction") {
	case "", "backward", "BACKWARD":
	case "forward", "FORWARD":
		dir = Forward
	default:
		writeError(w, http.StatusBadRequest, "bad_data", fmt.Sprintf("invalid direction %q: want backward or forward", v.Get("direction")))
		return
	}
	totalLimit := s.opts.QueryTotalLimit
	if tl := v.Get("total_limit"); tl != "" {
		if totalLimit, err = strconv.Atoi(tl); err != nil || totalLimit < 0 {
			writeError(w, http.StatusBadRequest, "bad_data", fmt.Sprintf("invalid total_limit %q: want a count, 0 for an exact total", tl))
			return
		}
	}
	res, err := s.Query(r.Context(), Query{Q: v.Get("q"), Start: start, End: end, Limit: limit, Direction: dir, TotalLimit: totalLimit})
	if err != nil {
		writeStoreError(w, err)
		return
	}
	// As Elasticsearch's hits.total.relation: "gte" when total is a lower bound.
	relation := "eq"
	if res.TotalLowerBound {
		relation = "gte"
	}
	writeData(w, map[string]any{"lines": toAPILines(res.Lines), "total": res.Total, "total_relation": relation})
}

func (s *Store) apiVolume(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	start, end, err := s.parseRange(v.Get("start"), v.Get("end"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_data", err.Error())
		return
	}
	var step time.Duration
	if st := v.Get("step"); st != "" {
		if step, err = parseStep(st); err != nil {
			writeError(w, http.StatusBadRequest, "bad_data", err.Error())
			return
		}
	}
	vol, err := s.Volume(r.Context(), v.Get("q"), start, end, step, v.Get("by"))
	if err != nil {
		writeStoreError(w, err)
		return
	}
	type series struct {
		Metric map[string]string `json:"metric"`
		Values [][2]any          `json:"values"`
	}
	result := make([]series, 0, len(vol.Series))
	for _, sr := range vol.Series {
		m := map[string]string{}
		if vol.By != "" {
			m[vol.By] = sr.Value
		}
		vals := make([][2]any, 0, len(sr.Counts))
		for i, c := range sr.Counts {
			if c == 0 {
				continue
			}
			ts := vol.Start.Add(time.Duration(i) * vol.Step)
			vals = append(vals, [2]any{json.Number(strconv.FormatFloat(float64(ts.UnixNano())/1e9, 'f', -1, 64)), strconv.FormatInt(c, 10)})
		}
		result = append(result, series{Metric: m, Values: vals})
	}
	writeData(w, map[string]any{"resultType": "matrix", "result": result, "step": vol.Step.Seconds(), "total": vol.Total})
}

func (s *Store) apiFields(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	start, end, err := s.parseRange(v.Get("start"), v.Get("end"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_data", err.Error())
		return
	}
	names, err := s.Fields(r.Context(), start, end)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	writeData(w, names)
}

func (s *Store) apiFieldValues(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	start, end, err := s.parseRange(v.Get("start"), v.Get("end"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_data", err.Error())
		return
	}
	limit, err := parseLimit(v.Get("limit"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_data", err.Error())
		return
	}
	name := chi.URLParam(r, "name")
	vals, lines, err := s.FieldValues(r.Context(), name, v.Get("q"), start, end, limit)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	type value struct {
		Value string `json:"value"`
		Count int64  `json:"count"`
	}
	out := make([]value, len(vals))
	for i, x := range vals {
		out[i] = value{x.Value, x.Count}
	}
	writeData(w, map[string]any{"field": name, "values": out, "lines": lines})
}

func (s *Store) apiContext(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	count := func(name string) (int, error) {
		x := v.Get(name)
		if x == "" {
			return 10, nil
		}
		n, err := strconv.Atoi(x)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("invalid %s %q", name, x)
		}
		return n, nil
	}
	before, err1 := count("before")
	after, err2 := count("after")
	if err := errors.Join(err1, err2); err != nil {
		writeError(w, http.StatusBadRequest, "bad_data", err.Error())
		return
	}
	res, err := s.Context(r.Context(), v.Get("id"), before, after)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	writeData(w, map[string]any{"before": toAPILines(res.Before), "line": toAPILine(res.Line), "after": toAPILines(res.After)})
}

// tailHeartbeat keeps idle SSE connections (and proxies) alive.
const tailHeartbeat = 15 * time.Second

func (s *Store) apiTail(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	ch, err := s.Tail(ctx, r.URL.Query().Get("q"))
	if err != nil {
		writeStoreError(w, err)
		return
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprint(w, ": tailing\n\n"); err != nil {
		return
	}
	if rc.Flush() != nil {
		return
	}
	t := time.NewTicker(tailHeartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return
			}
		case l, ok := <-ch:
			if !ok {
				fmt.Fprint(w, "event: end\ndata: {}\n\n")
				_ = rc.Flush()
				return
			}
			b, err := json.Marshal(toAPILine(l))
			if err != nil {
				return
			}
			if _, err := fmt.Fprintf(w, "id: %s\ndata: %s\n\n", l.ID, b); err != nil {
				return
			}
		}
		if rc.Flush() != nil {
			return
		}
	}
}

func (s *Store) parseRange(startS, endS string) (time.Time, time.Time, error) {
	end := s.opts.now()
	if endS != "" {
		t, err := parseAPITime(endS)
		if err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("invalid end: %w", err)
		}
		end = t
	}
	start := end.Add(-time.Hour)
	if startS != "" {
		t, err := parseAPITime(startS)
		if err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("invalid start: %w", err)
		}
		start = t
	}
	if end.Before(start) {
		return time.Time{}, time.Time{}, fmt.Errorf("end %s is before start %s", end.Format(time.RFC3339Nano), start.Format(time.RFC3339Nano))
	}
	return start, end, nil
}

// parseAPITime accepts RFC 3339, Unix seconds (at most 10 integer digits, optional
// fraction) and Unix nanoseconds (more digits), like Loki.
func parseAPITime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	intPart, frac, hasFrac := strings.Cut(v, ".")
	if n, err := strconv.ParseInt(intPart, 10, 64); err == nil {
		digits := len(strings.TrimPrefix(intPart, "-"))
		switch {
		case hasFrac:
			f, err := strconv.ParseFloat("0."+frac, 64)
			if err != nil {
				break
			}
			return time.Unix(n, int64(math.Round(f*1e9))).UTC(), nil
		case digits <= 10:
			return time.Unix(n, 0).UTC(), nil
		default:
			return time.Unix(0, n).UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot parse %q as RFC 3339 or a Unix timestamp", v)
}

// parseStep accepts a Go/Prometheus duration ("15s", "1m") or seconds ("15", "0.5").
func parseStep(v string) (time.Duration, error) {
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return d, nil
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && f > 0 && f < 1e12 {
		return time.Duration(f * float64(time.Second)), nil
	}
	return 0, fmt.Errorf("invalid step %q: want a positive duration or number of seconds", v)
}

func writeData(w http.ResponseWriter, data any) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "data": data})
}

func writeError(w http.ResponseWriter, code int, typ, msg string) {
	writeJSON(w, code, map[string]any{"status": "error", "errorType": typ, "error": msg})
}

// writeStoreError maps a store error onto a status: bad input 400, unknown id 404, closed
// or timed out 503, the rest 500.
func writeStoreError(w http.ResponseWriter, err error) {
	switch {
	case isPermanent(err):
		writeError(w, http.StatusBadRequest, "bad_data", err.Error())
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		writeError(w, http.StatusServiceUnavailable, "timeout", err.Error())
	case errors.Is(err, context.Canceled):
		writeError(w, http.StatusServiceUnavailable, "canceled", err.Error())
	case errors.Is(err, ErrClosed):
		writeError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
	default:
		writeError(w, http.StatusInternalServerError, "internal", err.Error())
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		b = []byte(`{"status":"error","errorType":"internal","error":"encode response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

// parseLimit reads a limit parameter: empty is 0 (the store's default), else a count >= 0.
func parseLimit(l string) (int, error) {
	if l == "" {
		return 0, nil
	}
	limit, err := strconv.Atoi(l)
	if err != nil || limit < 0 {
		return 0, fmt.Errorf("invalid limit %q", l)
	}
	return limit, nil
}
