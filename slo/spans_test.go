package slo

import (
	"math"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

const (
	server  = "SPAN_KIND_SERVER"
	client  = "SPAN_KIND_CLIENT"
	okCode  = "STATUS_CODE_UNSET"
	errCode = "STATUS_CODE_ERROR"
)

// spanCalls is a traces_span_metrics_calls_total series growing by perStep.
func spanCalls(svc, kind, status string, from time.Time, perStep func(time.Time) float64) series {
	return counter(labels.FromStrings("__name__", spanCallsMetric, "service_name", svc, "span_name", "GET /", "span_kind", kind, "status_code", status), from, perStep)
}

// spanDurations are the cumulative duration buckets of svc's server spans (the generator's
// default bounds, in ms) when perStep(t) spans a step take fast ms and perStepSlow(t) slow ms.
func spanDurations(svc string, from time.Time, fastMs, slowMs float64, perStep, perStepSlow func(time.Time) float64) []series {
	var out []series
	for _, le := range []string{"100", "200", "400", "800", "+Inf"} {
		bound := math.Inf(1)
		if le != "+Inf" {
			bound = mustFloat(le)
		}
		out = append(out, counter(labels.FromStrings("__name__", spanDurationBucket, "service_name", svc, "span_name", "GET /", "span_kind", server, "status_code", okCode, "le", le), from,
			func(ts time.Time) float64 {
				v := 0.0
				if fastMs <= bound {
					v += perStep(ts)
				}
				if slowMs <= bound {
					v += perStepSlow(ts)
				}
				return v
			}))
	}
	return out
}

func mustFloat(s string) float64 {
	var f float64
	for _, c := range s {
		f = f*10 + float64(c-'0')
	}
	return f
}

func constant(v float64) func(time.Time) float64 { return func(time.Time) float64 { return v } }

// A service with only traces gets availability and latency SLOs from its SERVER spans: 2% of
// its server calls fail (its client calls fail more, and do not count) and 3% take 800 ms,
// over the derived 300 ms threshold.
func TestSpanMetricsSLO(t *testing.T) {
	s := openStore(t)
	end := time.Date(2025, 3, 13, 12, 0, 0, 0, time.UTC)
	from := end.Add(-2 * time.Hour)
	ss := []series{
		spanCalls("checkout", server, okCode, from, constant(98)),
		spanCalls("checkout", server, errCode, from, constant(2)),
		spanCalls("checkout", client, errCode, from, constant(50)),
		spanCalls("checkout", client, okCode, from, constant(50)),
	}
	ss = append(ss, spanDurations("checkout", from, 50, 800, constant(97), constant(3))...)
	s.write(t, from, end, 15*time.Second, ss...)
	set := mustLoad(t, map[string]string{"spans.yml": "slos:\n  - {name: checkout, service: checkout, objective: 99.9}\n"})
	yml, err := set.RuleGroups(RuleOptions{GoldenSignals: GoldenSignals{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	evalAll(s.loadGroups(t, yml), end)
	f := func(slo string, want float64) {
		t.Helper()
		v := s.query(t, `slo:sli_error:ratio_rate1h{slo="`+slo+`", service="checkout"}`, end)
		if len(v) != 1 || math.Abs(v[0].F-want) > 1e-9 {
			t.Errorf("%s 1h error ratio = %v, want %v", slo, v, want)
		}
	}
	f("checkout.availability", 0.02)
	f("checkout.latency", 0.03)
}
