package traces

import (
	"cmp"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The Jaeger query API's JSON model (jaeger model/json), as the Jaeger UI and Grafana's
// Jaeger data source read it.

type jaegerResponse struct {
	Data   any           `json:"data"`
	Total  int           `json:"total"`
	Limit  int           `json:"limit"`
	Offset int           `json:"offset"`
	Errors []jaegerError `json:"errors"`
}

type jaegerError struct {
	Code    int    `json:"code,omitempty"`
	Msg     string `json:"msg"`
	TraceID string `json:"traceID,omitempty"`
}

type jaegerTrace struct {
	TraceID   string                   `json:"traceID"`
	Spans     []jaegerSpan             `json:"spans"`
	Processes map[string]jaegerProcess `json:"processes"`
	Warnings  []string                 `json:"warnings"`
}

type jaegerSpan struct {
	TraceID       string            `json:"traceID"`
	SpanID        string            `json:"spanID"`
	Flags         uint32            `json:"flags,omitempty"`
	OperationName string            `json:"operationName"`
	References    []jaegerReference `json:"references"`
	StartTime     int64             `json:"startTime"` // µs since the epoch
	Duration      int64             `json:"duration"`  // µs
	Tags          []jaegerKeyValue  `json:"tags"`
	Logs          []jaegerLog       `json:"logs"`
	ProcessID     string            `json:"processID"`
	Warnings      []string          `json:"warnings"`
}

type jaegerReference struct {
	RefType string `json:"refType"` // CHILD_OF or FOLLOWS_FROM
	TraceID string `json:"traceID"`
	SpanID  string `json:"spanID"`
}

type jaegerProcess struct {
	ServiceName string           `json:"serviceName"`
	Tags        []jaegerKeyValue `json:"tags"`
}

type jaegerLog struct {
	Timestamp int64            `json:"timestamp"`
	Fields    []jaegerKeyValue `json:"fields"`
}

type jaegerKeyValue struct {
	Key   string `json:"key"`
	Type  string `json:"type"`
	Value any    `json:"value"`
}

type jaegerOperation struct {
	Name     string `json:"name"`
	SpanKind string `json:"spanKind"`
}

type jaegerDependency struct {
	Parent    string `json:"parent"`
	Child     string `json:"child"`
	CallCount uint64 `json:"callCount"`
}

// jaegerTraceIDString is Jaeger's form: 16 hex digits when the high half is zero, else 32.
func jaegerTraceIDString(id TraceID) string {
	if [8]byte(id[:8]) == [8]byte{} {
		return hex.EncodeToString(id[8:])
	}
	return id.String()
}

func micros(t time.Time) int64 { return t.UnixNano() / 1e3 }

func jaegerKV(a Attribute) jaegerKeyValue {
	kv := jaegerKeyValue{Key: a.Key}
	switch v := a.Value; v.Type() {
	case ValueBool:
		kv.Type, kv.Value = "bool", v.Bool()
	case ValueInt:
		kv.Type, kv.Value = "int64", v.Int()
	case ValueFloat:
		kv.Type, kv.Value = "float64", v.Float()
	case ValueBytes:
		kv.Type, kv.Value = "binary", []byte(v.Str()) // base64, as Jaeger's encoder does
	default:
		kv.Type, kv.Value = "string", v.Str()
	}
	return kv
}

func jaegerKVs(as []Attribute) []jaegerKeyValue {
	out := make([]jaegerKeyValue, 0, len(as))
	for _, a := range as {
		out = append(out, jaegerKV(a))
	}
	return out
}

// sortKVs sorts by key, as Jaeger's SortTagsAndLogFields adjuster does.
func sortKVs(kvs []jaegerKeyValue) {
	slices.SortStableFunc(kvs, func(a, b jaegerKeyValue) int { return strings.Compare(a.Key, b.Key) })
}

// toJaegerTrace converts the spans of one trace the way Jaeger's OTLP translator does:
// resource attributes become process tags, events logs, the parent a CHILD_OF reference and
// links FOLLOWS_FROM references; kind, status and scope become span.kind, otel.status_code,
// error, otel.status_description, otel.scope.name and otel.scope.version tags. Spans are
// ordered by start time, tags by key.
func toJaegerTrace(spans []Span) jaegerTrace {
	spans = slices.Clone(spans)
	slices.SortFunc(spans, func(a, b Span) int {
		return cmp.Or(a.Start.Compare(b.Start), strings.Compare(a.SpanID.String(), b.SpanID.String()))
	})
	tr := jaegerTrace{Spans: make([]jaegerSpan, 0, len(spans)), Processes: map[string]jaegerProcess{}}
	if len(spans) > 0 {
		tr.TraceID = jaegerTraceIDString(spans[0].TraceID)
	}
	processKeys := map[string]string{} // canonical process -> p1...
	for i := range spans {
		s := &spans[i]
		proc := jaegerProcess{ServiceName: s.Service, Tags: jaegerKVs(s.Resource)}
		sortKVs(proc.Tags)
		canon := fmt.Sprintf("%q%v", proc.ServiceName, proc.Tags)
		pid, ok := processKeys[canon]
		if !ok {
			pid = fmt.Sprintf("p%d", len(processKeys)+1)
			processKeys[canon] = pid
			tr.Processes[pid] = proc
		}
		tr.Spans = append(tr.Spans, toJaegerSpan(s, pid))
	}
	return tr
}

func toJaegerSpan(s *Span, pid string) jaegerSpan {
	js := jaegerSpan{
		TraceID:       jaegerTraceIDString(s.TraceID),
		SpanID:        s.SpanID.String(),
		Flags:         s.Flags & 0xff,
		OperationName: s.Name,
		References:    []jaegerReference{},
		StartTime:     micros(s.Start),
		Duration:      s.End.Sub(s.Start).Microseconds(),
		Tags:          jaegerKVs(s.Attributes),
		Logs:          []jaegerLog{},
		ProcessID:     pid,
	}
	if !s.ParentSpanID.IsZero() {
		js.References = append(js.References, jaegerReference{RefType: "CHILD_OF", TraceID: js.TraceID, SpanID: s.ParentSpanID.String()})
	}
	for _, l := range s.Links {
		js.References = append(js.References, jaegerReference{RefType: "FOLLOWS_FROM", TraceID: jaegerTraceIDString(l.TraceID), SpanID: l.SpanID.String()})
	}
	str := func(k, v string) jaegerKeyValue { return jaegerKeyValue{Key: k, Type: "string", Value: v} }
	if s.Scope.Name != "" {
		js.Tags = append(js.Tags, str("otel.scope.name", s.Scope.Name))
	}
	if s.Scope.Version != "" {
		js.Tags = append(js.Tags, str("otel.scope.version", s.Scope.Version))
	}
	if k := s.Kind.String(); k != "" {
		js.Tags = append(js.Tags, str("span.kind", k))
	}
	switch s.StatusCode {
	case StatusOK:
		js.Tags = append(js.Tags, str("otel.status_code", "OK"))
	case StatusError:
		js.Tags = append(js.Tags, str("otel.status_code", "ERROR"), jaegerKeyValue{Key: "error", Type: "bool", Value: true})
	}
	if s.StatusMessage != "" {
		js.Tags = append(js.Tags, str("otel.status_description", s.StatusMessage))
	}
	if s.TraceState != "" {
		js.Tags = append(js.Tags, str("w3c.tracestate", s.TraceState))
	}
	sortKVs(js.Tags)
	for _, e := range s.Events {
		l := jaegerLog{Timestamp: micros(e.Time), Fields: jaegerKVs(e.Attributes)}
		sortKVs(l.Fields)
		if e.Name != "" {
			l.Fields = append([]jaegerKeyValue{str("event", e.Name)}, l.Fields...)
		}
		js.Logs = append(js.Logs, l)
	}
	return js
}
