package traces

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/go-chi/chi/v5"
)

// The trace page's API (mounted with the Jaeger routes, see JaegerHandler):
//
//	GET /api/v1/traces/{traceID}/tree?parent=&depth=&limit=
//	GET /api/v1/traces/{traceID}/spans/{spanID}
//
// /tree sends part of a trace's span tree so the page can show a 100,000-span trace without
// loading it all: the spans up to depth levels (default 3) below parent (a span id in hex;
// empty for the roots), at most limit (default 5000), depth first with children by start.
// Times are µs since the epoch, durations µs. /spans sends one span in full.

const (
	defaultTreeDepth = 3
	defaultTreeLimit = 5000
	maxTreeLimit     = 100_000
	maxTreeDepth     = 10_000
)

type treeResponse struct {
	TraceID   string     `json:"traceID"`
	SpanCount int        `json:"spanCount"`
	Start     int64      `json:"start"`
	End       int64      `json:"end"`
	Services  []string   `json:"services"`
	Spans     []treeSpan `json:"spans"`
	Omitted   int        `json:"omitted"`
	Reason    string     `json:"reason"`
}

type treeSpan struct {
	SpanID          string `json:"spanID"`
	ParentSpanID    string `json:"parentSpanID"`
	Service         string `json:"service"`
	Name            string `json:"name"`
	Kind            string `json:"kind"`
	Start           int64  `json:"start"`
	Duration        int64  `json:"duration"`
	Status          string `json:"status"`
	ChildCount      int    `json:"childCount"`
	DescendantCount int    `json:"descendantCount"`
}

type spanResponse struct {
	TraceID           string           `json:"traceID"`
	SpanID            string           `json:"spanID"`
	ParentSpanID      string           `json:"parentSpanID"`
	Service           string           `json:"service"`
	Name              string           `json:"name"`
	Kind              string           `json:"kind"`
	Start             int64            `json:"start"`
	End               int64            `json:"end"`
	Duration          int64            `json:"duration"`
	StartTimeUnixNano string           `json:"startTimeUnixNano"`
	EndTimeUnixNano   string           `json:"endTimeUnixNano"`
	Status            string           `json:"status"`
	StatusMessage     string           `json:"statusMessage"`
	TraceState        string           `json:"traceState"`
	Flags             uint32           `json:"flags"`
	Scope             spanScope        `json:"scope"`
	Attributes        []jaegerKeyValue `json:"attributes"`
	Resource          []jaegerKeyValue `json:"resource"`
	Events            []spanEvent      `json:"events"`
	Links             []spanLink       `json:"links"`
}

type spanScope struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type spanEvent struct {
	Time       int64            `json:"time"`
	Name       string           `json:"name"`
	Attributes []jaegerKeyValue `json:"attributes"`
}

type spanLink struct {
	TraceID    string           `json:"traceID"`
	SpanID     string           `json:"spanID"`
	TraceState string           `json:"traceState"`
	Attributes []jaegerKeyValue `json:"attributes"`
}

func kindName(k SpanKind) string {
	if s := k.String(); s != "" {
		return s
	}
	return "unspecified"
}

func statusName(c StatusCode) string {
	switch c {
	case StatusOK:
		return "ok"
	case StatusError:
		return "error"
	}
	return "unset"
}

func spanIDText(id SpanID) string {
	if id.IsZero() {
		return ""
	}
	return id.String()
}

// parseSpanID parses 16 hex digits.
func parseSpanID(s string) (SpanID, error) {
	var id SpanID
	if len(s) != 16 {
		return id, fmt.Errorf("span id %q: want 16 hex digits", s)
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("span id %q: %w", s, err)
	}
	return id, nil
}

func boundedInt(v url.Values, name string, def, lo, hi int) (int, error) {
	s := v.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("unable to parse param '%s': %q is not an integer from %d to %d", name, s, lo, hi)
	}
	return n, nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // the reason says parent=<spanID>
	_ = enc.Encode(v)
}

// writeLookupError answers a failed trace or span lookup: 404 for an unknown trace or
// span, else as writeStoreError.
func writeLookupError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrTraceNotFound):
		writeJaegerError(w, http.StatusNotFound, errors.New("trace not found"))
	case errors.Is(err, ErrSpanNotFound):
		writeJaegerError(w, http.StatusNotFound, errors.New("span not found"))
	default:
		writeStoreError(w, err)
	}
}

func (db *DB) serveTree(w http.ResponseWriter, r *http.Request) {
	id, err := ParseTraceID(chi.URLParam(r, "traceID"))
	if err != nil {
		writeJaegerError(w, http.StatusBadRequest, err)
		return
	}
	v := r.URL.Query()
	var q TreeQuery
	if s := v.Get("parent"); s != "" {
		if q.Parent, err = parseSpanID(s); err != nil {
			writeJaegerError(w, http.StatusBadRequest, fmt.Errorf("unable to parse param 'parent': %w", err))
			return
		}
	}
	if q.Depth, err = boundedInt(v, "depth", defaultTreeDepth, 1, maxTreeDepth); err != nil {
		writeJaegerError(w, http.StatusBadRequest, err)
		return
	}
	if q.Limit, err = boundedInt(v, "limit", defaultTreeLimit, 1, maxTreeLimit); err != nil {
		writeJaegerError(w, http.StatusBadRequest, err)
		return
	}
	t, err := db.TraceTree(r.Context(), id, q)
	if err != nil {
		writeLookupError(w, err)
		return
	}
	resp := treeResponse{
		TraceID: id.String(), SpanCount: t.SpanCount, Start: micros(t.Start), End: micros(t.End),
		Services: t.Services, Spans: make([]treeSpan, 0, len(t.Spans)), Omitted: t.Omitted,
	}
	for _, n := range t.Spans {
		resp.Spans = append(resp.Spans, treeSpan{
			SpanID: n.SpanID.String(), ParentSpanID: spanIDText(n.Parent), Service: n.Service, Name: n.Name,
			Kind: kindName(n.Kind), Start: micros(n.Start), Duration: n.Duration.Microseconds(),
			Status: statusName(n.Status), ChildCount: n.ChildCount, DescendantCount: n.DescendantCount,
		})
	}
	switch t.OmittedBy {
	case "limit":
		resp.Reason = fmt.Sprintf("limit: %d of the %d spans below the requested parent sent, level by level; ask for the rest with parent=<spanID> or a larger limit", len(t.Spans), len(t.Spans)+t.Omitted)
	case "depth":
		resp.Reason = fmt.Sprintf("depth: spans more than %d levels below the requested parent not sent; ask for them with parent=<spanID>", q.Depth)
	}
	writeJSON(w, resp)
}

func (db *DB) serveSpan(w http.ResponseWriter, r *http.Request) {
	id, err := ParseTraceID(chi.URLParam(r, "traceID"))
	if err != nil {
		writeJaegerError(w, http.StatusBadRequest, err)
		return
	}
	sid, err := parseSpanID(chi.URLParam(r, "spanID"))
	if err != nil {
		writeJaegerError(w, http.StatusBadRequest, err)
		return
	}
	s, err := db.TraceSpan(r.Context(), id, sid)
	if err != nil {
		writeLookupError(w, err)
		return
	}
	writeJSON(w, toSpanResponse(&s))
}

func toSpanResponse(s *Span) spanResponse {
	resp := spanResponse{
		TraceID: s.TraceID.String(), SpanID: s.SpanID.String(), ParentSpanID: spanIDText(s.ParentSpanID),
		Service: s.Service, Name: s.Name, Kind: kindName(s.Kind),
		Start: micros(s.Start), End: micros(s.End), Duration: s.Duration().Microseconds(),
		StartTimeUnixNano: strconv.FormatInt(s.Start.UnixNano(), 10), EndTimeUnixNano: strconv.FormatInt(s.End.UnixNano(), 10),
		Status: statusName(s.StatusCode), StatusMessage: s.StatusMessage, TraceState: s.TraceState, Flags: s.Flags,
		Scope:      spanScope{Name: s.Scope.Name, Version: s.Scope.Version},
		Attributes: jaegerKVs(s.Attributes),
		Resource:   append([]jaegerKeyValue{{Key: "service.name", Type: "string", Value: s.Service}}, jaegerKVs(s.Resource)...),
		Events:     make([]spanEvent, 0, len(s.Events)),
		Links:      make([]spanLink, 0, len(s.Links)),
	}
	for _, e := range s.Events {
		resp.Events = append(resp.Events, spanEvent{Time: micros(e.Time), Name: e.Name, Attributes: jaegerKVs(e.Attributes)})
	}
	for _, l := range s.Links {
		resp.Links = append(resp.Links, spanLink{TraceID: l.TraceID.String(), SpanID: l.SpanID.String(), TraceState: l.TraceState, Attributes: jaegerKVs(l.Attributes)})
	}
	return resp
}
