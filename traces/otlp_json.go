package traces

import (
	"fmt"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// OTLPJSON renders spans as an OTLP JSON ExportTraceServiceRequest, grouped by resource and
// instrumentation scope, as Tempo's and Jaeger v2's /api/v1/traces answers.
func OTLPJSON(spans []Span) ([]byte, error) {
	td := ToPtrace(spans)
	b, err := (&ptrace.JSONMarshaler{}).MarshalTraces(td)
	if err != nil {
		return nil, fmt.Errorf("encode trace as OTLP JSON: %w", err)
	}
	return b, nil
}

// ToPtrace converts stored spans back into pdata.
func ToPtrace(spans []Span) ptrace.Traces {
	td := ptrace.NewTraces()
	type resKey struct{ service, attrs string }
	resources := map[resKey]ptrace.ResourceSpans{}
	scopes := map[resKey]map[Scope]ptrace.ScopeSpans{}
	for i := range spans {
		s := &spans[i]
		rk := resKey{s.Service, fmt.Sprint(s.Resource)}
		rs, ok := resources[rk]
		if !ok {
			rs = td.ResourceSpans().AppendEmpty()
			rs.Resource().Attributes().PutStr("service.name", s.Service)
			putAttrs(rs.Resource().Attributes(), s.Resource)
			resources[rk] = rs
			scopes[rk] = map[Scope]ptrace.ScopeSpans{}
		}
		ss, ok := scopes[rk][s.Scope]
		if !ok {
			ss = rs.ScopeSpans().AppendEmpty()
			ss.Scope().SetName(s.Scope.Name)
			ss.Scope().SetVersion(s.Scope.Version)
			scopes[rk][s.Scope] = ss
		}
		ps := ss.Spans().AppendEmpty()
		ps.SetTraceID(pcommon.TraceID(s.TraceID))
		ps.SetSpanID(pcommon.SpanID(s.SpanID))
		ps.SetParentSpanID(pcommon.SpanID(s.ParentSpanID))
		ps.TraceState().FromRaw(s.TraceState)
		ps.SetFlags(s.Flags)
		ps.SetName(s.Name)
		ps.SetKind(ptrace.SpanKind(s.Kind))
		ps.SetStartTimestamp(pcommon.NewTimestampFromTime(s.Start))
		ps.SetEndTimestamp(pcommon.NewTimestampFromTime(s.End))
		ps.Status().SetCode(ptrace.StatusCode(s.StatusCode))
		ps.Status().SetMessage(s.StatusMessage)
		putAttrs(ps.Attributes(), s.Attributes)
		for _, e := range s.Events {
			pe := ps.Events().AppendEmpty()
			pe.SetTimestamp(pcommon.NewTimestampFromTime(e.Time))
			pe.SetName(e.Name)
			putAttrs(pe.Attributes(), e.Attributes)
		}
		for _, l := range s.Links {
			pl := ps.Links().AppendEmpty()
			pl.SetTraceID(pcommon.TraceID(l.TraceID))
			pl.SetSpanID(pcommon.SpanID(l.SpanID))
			pl.TraceState().FromRaw(l.TraceState)
			putAttrs(pl.Attributes(), l.Attributes)
		}
	}
	return td
}

func putAttrs(m pcommon.Map, as []Attribute) {
	for _, a := range as {
		switch v := a.Value; v.Type() {
		case ValueBool:
			m.PutBool(a.Key, v.Bool())
		case ValueInt:
			m.PutInt(a.Key, v.Int())
		case ValueFloat:
			m.PutDouble(a.Key, v.Float())
		case ValueBytes:
			m.PutEmptyBytes(a.Key).FromRaw([]byte(v.Str()))
		default:
			m.PutStr(a.Key, v.Str())
		}
	}
}
