package web

import "strings"

// GoldenSignalsName is the built-in dashboard's name. It is always listed, cannot be saved
// over or deleted, and a file of that name in the folder is ignored.
const GoldenSignalsName = "golden-signals"

// The span-metric queries of lib/golden.js (server and consumer spans of one service), with
// the service as the $service variable.
const (
	spanCalls    = `traces_span_metrics_calls_total{span_kind=~"SPAN_KIND_SERVER|SPAN_KIND_CONSUMER", service_name="$service"}`
	spanErrors   = `traces_span_metrics_calls_total{span_kind=~"SPAN_KIND_SERVER|SPAN_KIND_CONSUMER", status_code="STATUS_CODE_ERROR", service_name="$service"}`
	spanDuration = `traces_span_metrics_duration_milliseconds_bucket{span_kind=~"SPAN_KIND_SERVER|SPAN_KIND_CONSUMER", service_name="$service"}`
	spanDurSum   = `traces_span_metrics_duration_milliseconds_sum{span_kind=~"SPAN_KIND_SERVER|SPAN_KIND_CONSUMER", service_name="$service"}`
)

func goldenRate(w string) string { return `sum(rate(` + spanCalls + `[` + w + `]))` }

func goldenErrors(w string) string {
	return `(sum(rate(` + spanErrors + `[` + w + `])) or sum(rate(` + spanCalls + `[` + w + `])) * 0) / sum(rate(` + spanCalls + `[` + w + `]))`
}

func goldenQuantile(q, w string) string {
	return `histogram_quantile(` + q + `, sum by (le) (rate(` + spanDuration + `[` + w + `])))`
}

// goldenLatency is p50, p95 and p99 as one query, each series named by a "quantile" label.
func goldenLatency(w string) string {
	parts := []string{}
	for _, q := range []string{"0.5", "0.95", "0.99"} {
		name := "p" + strings.TrimPrefix(q, "0.")
		if name == "p5" {
			name = "p50"
		}
		parts = append(parts, `label_replace(`+goldenQuantile(q, w)+`, "quantile", "`+name+`", "", "")`)
	}
	return strings.Join(parts, " or ")
}

// goldenSaturation is the mean number of requests in progress (Little's law: busy seconds per
// second), the saturation every traced service has; CPU needs the process collector.
func goldenSaturation(w string) string {
	return `sum(rate(` + spanDurSum + `[` + w + `])) / 1000`
}

// GoldenSignals is the built-in dashboard: rate, errors, latency and saturation of $service
// from span metrics, and its log volume.
func GoldenSignals() Dashboard {
	return Dashboard{
		Title:       "Golden signals",
		Description: "Rate, errors, latency and saturation of one service, from the span metrics of its server spans. Built in and read-only: save a copy under another name to change it.",
		Variables: []Variable{{
			Name: "service", Label: "Service",
			Query: "label_values(traces_span_metrics_calls_total, service_name)",
		}},
		Panels: []Panel{
			{Title: "Rate", Type: "stat", Query: goldenRate("$__range"), Unit: "reqps", W: 3},
			{Title: "Error ratio", Type: "stat", Query: goldenErrors("$__range"), Unit: "ratio", W: 3},
			{Title: "p99 latency", Type: "stat", Query: goldenQuantile("0.99", "$__range"), Unit: "ms", W: 3},
			{Title: "In flight (mean)", Type: "stat", Query: goldenSaturation("$__range"), Unit: "none", W: 3},
			{Title: "Requests per second", Type: "graph", Query: goldenRate("$__rate_interval"), Unit: "reqps", W: 6},
			{Title: "Error ratio", Type: "graph", Query: goldenErrors("$__rate_interval"), Unit: "ratio", W: 6},
			{Title: "Latency (p50, p95, p99)", Type: "graph", Query: goldenLatency("$__rate_interval"), Unit: "ms", W: 6},
			{Title: "Saturation: requests in flight", Type: "graph", Query: goldenSaturation("$__rate_interval"), Unit: "none", W: 6},
			{Title: "Log volume by level", Type: "logs", Display: "volume", Query: "service:$service", W: 12},
		},
	}
}
