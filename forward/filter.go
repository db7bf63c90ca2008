package forward

import (
	"regexp"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/vigilhq/vigil/logs"
	"github.com/vigilhq/vigil/traces"
)

// Matcher matches one attribute (resource or record/span attribute alike) by value.
type Matcher struct {
	// Attribute is the key: "service.name", "k8s.namespace.name", "http.route", ...
	Attribute string
	// Value, when Regex is nil, must equal the attribute's value.
	Value string
	// Regex, when set, must match the whole value (anchored, as Prometheus matchers are).
	Regex *regexp.Regexp
}

func (m Matcher) matches(lookup func(string) (string, bool)) bool {
	v, ok := lookup(m.Attribute)
	if !ok {
		return false
	}
	if m.Regex != nil {
		return m.Regex.MatchString(v)
	}
	return v == m.Value
}

// Filter selects what an endpoint receives: an item is sent when Include is empty or any of
// its matchers matches, and none of Exclude's does. Metrics are selected per resource (their
// resource attributes), logs per record and spans per span.
type Filter struct {
	Include, Exclude []Matcher
}

func (f Filter) empty() bool { return len(f.Include) == 0 && len(f.Exclude) == 0 }

func (f Filter) keep(lookup func(string) (string, bool)) bool {
	for _, m := range f.Exclude {
		if m.matches(lookup) {
			return false
		}
	}
	if len(f.Include) == 0 {
		return true
	}
	for _, m := range f.Include {
		if m.matches(lookup) {
			return true
		}
	}
	return false
}

// recordLookup finds an attribute of a log record: service.name is its service, level (or
// severity_text) its level, the rest its fields.
func recordLookup(r *logs.Record) func(string) (string, bool) {
	return func(k string) (string, bool) {
		switch k {
		case "service.name", "service":
			return r.Service, r.Service != ""
		case "level", "severity_text":
			return r.Level, r.Level != ""
		}
		for _, f := range r.Fields {
			if f.Key == k {
				return f.Value, true
			}
		}
		return "", false
	}
}

// spanLookup finds an attribute of a span: service.name, then its resource, then its own
// attributes; span.name and span.kind are its name and kind.
func spanLookup(s *traces.Span) func(string) (string, bool) {
	return func(k string) (string, bool) {
		switch k {
		case "service.name":
			return s.Service, s.Service != ""
		case "span.name":
			return s.Name, true
		case "span.kind":
			return s.Kind.String(), true
		}
		for _, as := range [][]traces.Attribute{s.Resource, s.Attributes} {
			for _, a := range as {
				if a.Key == k {
					return a.Value.String(), true
				}
			}
		}
		return "", false
	}
}

func mapLookup(m pcommon.Map) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m.Get(k)
		if !ok {
			return "", false
		}
		return v.AsString(), true
	}
}

func filterLogs(f Filter, recs []logs.Record) []logs.Record {
	if f.empty() {
		return recs
	}
	out := make([]logs.Record, 0, len(recs))
	for i := range recs {
		if f.keep(recordLookup(&recs[i])) {
			out = append(out, recs[i])
		}
	}
	return out
}

func filterSpans(f Filter, spans []traces.Span) []traces.Span {
	if f.empty() {
		return spans
	}
	out := make([]traces.Span, 0, len(spans))
	for i := range spans {
		if f.keep(spanLookup(&spans[i])) {
			out = append(out, spans[i])
		}
	}
	return out
}

// filterMetrics returns md, or a copy holding only the resources f keeps.
func filterMetrics(f Filter, md pmetric.Metrics) pmetric.Metrics {
	if f.empty() {
		return md
	}
	out := pmetric.NewMetrics()
	for _, rm := range md.ResourceMetrics().All() {
		if f.keep(mapLookup(rm.Resource().Attributes())) {
			rm.CopyTo(out.ResourceMetrics().AppendEmpty())
		}
	}
	return out
}
