package ingest

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/vigilhq/vigil/traces"
)

// unknownService is the service of spans whose resource names none, as the OpenTelemetry
// SDKs default it.
const unknownService = "unknown_service"

// convertOTLPTraces turns td into spans, keeping those c accepts.
func convertOTLPTraces(td ptrace.Traces, c *spanCheck) []traces.Span {
	out := make([]traces.Span, 0, td.SpanCount())
	var slab attrSlab
	rss := td.ResourceSpans()
	for i := range rss.Len() {
		rs := rss.At(i)
		service := unknownService
		var resource []traces.Attribute
		for k, v := range rs.Resource().Attributes().All() {
			if k == "service.name" {
				if s := v.AsString(); s != "" {
					service = s
				}
				continue
			}
			resource = append(resource, convertAttr(k, v))
		}
		sss := rs.ScopeSpans()
		for j := range sss.Len() {
			ss := sss.At(j)
			scope := traces.Scope{Name: ss.Scope().Name(), Version: ss.Scope().Version()}
			spans := ss.Spans()
			for k := range spans.Len() {
				ps := spans.At(k)
				s := traces.Span{
					TraceID:       traces.TraceID(ps.TraceID()),
					SpanID:        traces.SpanID(ps.SpanID()),
					ParentSpanID:  traces.SpanID(ps.ParentSpanID()),
					TraceState:    ps.TraceState().AsRaw(),
					Flags:         ps.Flags(),
					Service:       service,
					Name:          ps.Name(),
					Kind:          traces.SpanKind(ps.Kind()),
					Start:         ps.StartTimestamp().AsTime(),
					End:           ps.EndTimestamp().AsTime(),
					StatusCode:    traces.StatusCode(ps.Status().Code()),
					StatusMessage: ps.Status().Message(),
					Attributes:    slab.convert(ps.Attributes()),
					Resource:      resource,
					Scope:         scope,
				}
				if s.Kind > traces.SpanKindConsumer {
					s.Kind = traces.SpanKindUnspecified
				}
				if s.StatusCode > traces.StatusError {
					s.StatusCode = traces.StatusUnset
				}
				if evs := ps.Events(); evs.Len() > 0 {
					s.Events = make([]traces.Event, 0, evs.Len())
					for e := range evs.Len() {
						ev := evs.At(e)
						s.Events = append(s.Events, traces.Event{Time: ev.Timestamp().AsTime(), Name: ev.Name(), Attributes: convertAttrs(ev.Attributes())})
					}
				}
				if ls := ps.Links(); ls.Len() > 0 {
					s.Links = make([]traces.Link, 0, ls.Len())
					for l := range ls.Len() {
						pl := ls.At(l)
						s.Links = append(s.Links, traces.Link{
							TraceID: traces.TraceID(pl.TraceID()), SpanID: traces.SpanID(pl.SpanID()),
							TraceState: pl.TraceState().AsRaw(), Attributes: convertAttrs(pl.Attributes()),
						})
					}
				}
				if c.ok(&s) {
					out = append(out, s)
				}
			}
		}
	}
	return out
}

// attrSlab hands out attribute slices cut from large blocks: one allocation for hundreds
// of spans instead of one per span. Each slice is capped, so appending to one cannot
// overwrite the next.
type attrSlab struct{ free []traces.Attribute }

func (s *attrSlab) convert(m pcommon.Map) []traces.Attribute {
	n := m.Len()
	if n == 0 {
		return nil
	}
	if len(s.free) < n {
		s.free = make([]traces.Attribute, max(n, 2048))
	}
	out := s.free[:0:n]
	s.free = s.free[n:]
	for k, v := range m.All() {
		out = append(out, convertAttr(k, v))
	}
	return out
}

func convertAttrs(m pcommon.Map) []traces.Attribute {
	if m.Len() == 0 {
		return nil
	}
	out := make([]traces.Attribute, 0, m.Len())
	for k, v := range m.All() {
		out = append(out, convertAttr(k, v))
	}
	return out
}

// convertAttr keeps scalar types; arrays and maps become their JSON text, as Jaeger's
// OTLP translator does.
func convertAttr(k string, v pcommon.Value) traces.Attribute {
	a := traces.Attribute{Key: k}
	switch v.Type() {
	case pcommon.ValueTypeBool:
		a.Value = traces.BoolValue(v.Bool())
	case pcommon.ValueTypeInt:
		a.Value = traces.IntValue(v.Int())
	case pcommon.ValueTypeDouble:
		a.Value = traces.FloatValue(v.Double())
	case pcommon.ValueTypeBytes:
		a.Value = traces.BytesValue(v.Bytes().AsRaw())
	default:
		a.Value = traces.StringValue(v.AsString())
	}
	return a
}
