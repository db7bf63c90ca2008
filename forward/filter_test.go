package forward

import (
	"regexp"
	"testing"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/vigilhq/vigil/logs"
	"github.com/vigilhq/vigil/traces"
)

func TestFilters(t *testing.T) {
	eq := func(k, v string) Matcher { return Matcher{Attribute: k, Value: v} }
	re := func(k, r string) Matcher { return Matcher{Attribute: k, Regex: regexp.MustCompile("^(?:" + r + ")$")} }
	recs := []logs.Record{
		{Service: "checkout", Level: "error", Fields: []logs.Field{{Key: "k8s.namespace.name", Value: "shop"}}},
		{Service: "cart", Level: "info", Fields: []logs.Field{{Key: "k8s.namespace.name", Value: "shop"}}},
		{Service: "search", Level: "debug"},
	}
	spans := []traces.Span{
		{Service: "checkout", Name: "pay", Resource: []traces.Attribute{{Key: "k8s.namespace.name", Value: traces.StringValue("shop")}}},
		{Service: "cart", Name: "add", Attributes: []traces.Attribute{{Key: "http.status_code", Value: traces.IntValue(500)}}},
		{Service: "search", Name: "query", Kind: traces.SpanKindClient},
	}
	for _, tc := range []struct {
		name      string
		f         Filter
		logs, spn []string // services kept
	}{
		{"none", Filter{}, []string{"checkout", "cart", "search"}, []string{"checkout", "cart", "search"}},
		{"include service", Filter{Include: []Matcher{eq("service.name", "checkout")}}, []string{"checkout"}, []string{"checkout"}},
		{"include either", Filter{Include: []Matcher{eq("service.name", "cart"), eq("k8s.namespace.name", "shop")}}, []string{"checkout", "cart"}, []string{"checkout", "cart"}},
		{"exclude regex", Filter{Exclude: []Matcher{re("service.name", "c.*")}}, []string{"search"}, []string{"search"}},
		{"include minus exclude", Filter{Include: []Matcher{eq("k8s.namespace.name", "shop")}, Exclude: []Matcher{eq("service.name", "cart")}}, []string{"checkout"}, []string{"checkout"}},
		{"record attribute", Filter{Include: []Matcher{eq("level", "debug"), eq("http.status_code", "500")}}, []string{"search"}, []string{"cart"}},
		{"span kind", Filter{Include: []Matcher{eq("span.kind", "client")}}, nil, []string{"search"}},
		{"missing attribute never matches", Filter{Exclude: []Matcher{re("nope", ".*")}}, []string{"checkout", "cart", "search"}, []string{"checkout", "cart", "search"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var gotLogs, gotSpans []string
			for _, r := range filterLogs(tc.f, recs) {
				gotLogs = append(gotLogs, r.Service)
			}
			for _, s := range filterSpans(tc.f, spans) {
				gotSpans = append(gotSpans, s.Service)
			}
			if !equal(gotLogs, tc.logs) || !equal(gotSpans, tc.spn) {
				t.Errorf("kept logs %v spans %v, want %v %v", gotLogs, gotSpans, tc.logs, tc.spn)
			}
		})
	}

	md := pmetric.NewMetrics()
	for _, svc := range []string{"checkout", "cart"} {
		rm := md.ResourceMetrics().AppendEmpty()
		rm.Resource().Attributes().PutStr("service.name", svc)
		rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty().SetEmptyGauge().DataPoints().AppendEmpty().SetIntValue(1)
	}
	got := filterMetrics(Filter{Include: []Matcher{eq("service.name", "cart")}}, md)
	if got.ResourceMetrics().Len() != 1 || got.DataPointCount() != 1 || md.ResourceMetrics().Len() != 2 {
		t.Errorf("metrics filter kept %d resources (input now %d)", got.ResourceMetrics().Len(), md.ResourceMetrics().Len())
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
