package slo

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

const nativeExample = `slos:
  - name: checkout-availability
    service: checkout
    objective: 99.9        # percent
    window: 30d
    sli:
      availability:
        errors: sum(rate(http_requests_total{job="checkout",code=~"5.."}[{{.window}}]))
        total:  sum(rate(http_requests_total{job="checkout"}[{{.window}}]))
  - name: checkout-latency
    service: checkout
    objective: 99
    sli:
      latency: {metric: http_request_duration_seconds, threshold: 0.3, matchers: '{job="checkout"}'}
  - name: checkout   # derived from span metrics
    service: checkout
    objective: 99.9
`

const openSLOExample = `apiVersion: openslo/v1
kind: Service
metadata: {name: payments}
spec: {description: Payments}
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: payments-availability
  displayName: Payments availability
spec:
  service: payments
  indicator:
    metadata: {name: payments-good}
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource: {type: Prometheus, spec: {query: 'http_requests_total{job="payments",code!~"5.."}'}}
        total:
          metricSource: {type: Prometheus, spec: {query: 'http_requests_total{job="payments"}'}}
  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - displayName: good
      target: 0.995
---
apiVersion: openslo/v1
kind: SLI
metadata: {name: payments-queue}
spec:
  thresholdMetric:
    metricSource: {type: Prometheus, spec: {query: 'max(queue_depth{job="payments"})'}}
---
apiVersion: openslo/v1
kind: SLO
metadata: {name: payments-queue}
spec:
  service: payments
  indicatorRef: payments-queue
  timeWindow: [{duration: 1M, isRolling: false, calendar: {startTime: "2024-01-01 00:00:00", timeZone: UTC}}]
  budgetingMethod: Timeslices
  objectives:
    - {op: lte, value: 100, targetPercent: 99, timeSliceTarget: 0.95, timeSliceWindow: 1m}
`

func TestLoadForms(t *testing.T) {
	set := mustLoad(t, map[string]string{"native.yml": nativeExample, "openslo.yml": openSLOExample})
	var names []string
	for _, s := range set.SLOs() {
		names = append(names, s.Name)
	}
	want := "checkout-availability checkout-latency checkout.availability checkout.latency payments-availability payments-queue"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("SLOs = %s, want %s", got, want)
	}
	f := func(name string, check func(s *SLO) string) {
		t.Helper()
		s, ok := set.Get(name)
		if !ok {
			t.Fatalf("no SLO %s", name)
		}
		if msg := check(s); msg != "" {
			t.Errorf("%s: %s", name, msg)
		}
	}
	f("checkout-availability", func(s *SLO) string {
		if s.Objective != 0.999 || s.ErrorBudget() != 0.001 || s.Window.Rolling.Hours() != 720 {
			return "objective, budget or window wrong"
		}
		if got := s.ErrorRatioOver(3600e9); !strings.Contains(got, `code=~"5.."}[1h]`) {
			return "error ratio over 1h: " + got
		}
		return ""
	})
	f("checkout.latency", func(s *SLO) string {
		if s.Objective != 0.99 || s.SLI.Kind != SLISpanLatency || !strings.Contains(s.SLI.ErrorRatio, "histogram_fraction(0, 300,") {
			return "derived latency wrong: " + s.SLI.ErrorRatio
		}
		return ""
	})
	f("payments-availability", func(s *SLO) string {
		want := `1 - ((sum(rate(http_requests_total{job="payments",code!~"5.."}[5m]))) or vector(0)) / (sum(rate(http_requests_total{job="payments"}[5m])))`
		if got := s.ErrorRatioOver(5 * 60e9); got != want || s.Objective != 0.995 || s.Window.Rolling.Hours() != 28*24 {
			return "got " + got
		}
		return ""
	})
	f("payments-queue", func(s *SLO) string {
		if s.Window.Calendar != CalendarMonth || !s.Budgeting.Timeslices || s.Budgeting.SliceTarget != 0.95 || s.Objective != 0.99 {
			return "calendar timeslices wrong"
		}
		if got := s.ErrorRatioOver(3600e9); !strings.HasPrefix(got, "avg_over_time(((avg_over_time(((max(queue_depth") || !strings.Contains(got, "[1h:1m]") {
			return "got " + got
		}
		return ""
	})
}

func TestLoadRefusesInvalidSpecs(t *testing.T) {
	good := `slos:
  - name: ok
    service: api
    objective: 99
    sli: {availability: {errors: 'errs_total', total: 'reqs_total'}}
`
	f := func(name, spec string, want ...string) {
		t.Run(name, func(t *testing.T) {
			dir := writeSpecs(t, map[string]string{"a-good.yml": good, "b-bad.yml": spec})
			set, err := Load(context.Background(), []string{filepath.Join(dir, "*.yml")})
			if err == nil {
				t.Fatal("loaded an invalid spec")
			}
			msg := err.Error()
			for _, w := range append([]string{filepath.Join(dir, "b-bad.yml")}, want...) {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q\nlacks %q", msg, w)
				}
			}
			if _, ok := set.Get("ok"); !ok && name != "duplicate name" {
				t.Error("the valid SLO of the other file was dropped")
			}
			if name == "objective 120" {
				t.Log(msg)
			}
			if got := set.FailedFiles(); name != "duplicate name" && (len(got) != 1 || !strings.HasSuffix(got[0], "b-bad.yml")) {
				t.Errorf("failed files = %v", got)
			}
		})
	}
	f("objective 120", "slos:\n  - {name: x, service: api, objective: 120}\n",
		"line 2", "slos[0] (x).objective", "120 is not a percentage in (0, 100)")
	f("unknown SLI kind", "slos:\n  - name: x\n    service: api\n    objective: 99\n    sli:\n      availabilty: {errors: a, total: b}\n",
		"line 6", "slos[0].sli.availabilty", "unknown field")
	f("bad PromQL", "slos:\n  - name: x\n    service: api\n    objective: 99\n    sli:\n      availability:\n        errors: 'sum(rate(errs[{{.window}}])'\n        total: reqs_total\n",
		"line 7", "slos[0] (x).sli.availability.errors", "invalid PromQL")
	f("missing service", "slos:\n  - name: x\n    objective: 99\n", "slos[0] (x).service", "missing")
	f("duplicate name", "slos:\n  - {name: ok, service: api, objective: 99, sli: {saturation: {query: 'up', limit: 1}}}\n", "SLO \"ok\" is defined more than once")
	f("openslo target", "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: y}\nspec:\n  service: api\n  indicator: {metadata: {name: i}, spec: {ratioMetric: {counter: true, bad: {metricSource: {type: Prometheus, spec: {query: errs_total}}}, total: {metricSource: {type: Prometheus, spec: {query: reqs_total}}}}}}\n  timeWindow: [{duration: 7d, isRolling: true}]\n  budgetingMethod: Occurrences\n  objectives: [{target: 1.5}]\n",
		"line 9", "spec.objectives[0].target", "1.5 is not a fraction in (0, 1)")
	f("yaml syntax", "slos: [\n", "did not find expected")
}

func TestKeepFailed(t *testing.T) {
	dir := writeSpecs(t, map[string]string{
		"a.yml": "slos:\n  - {name: a, service: s, objective: 99}\n",
		"b.yml": "slos:\n  - {name: b, service: s, objective: 99}\n",
	})
	glob := []string{filepath.Join(dir, "*.yml")}
	old, err := Load(context.Background(), glob)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "b.yml"), "slos:\n  - {name: b, service: s, objective: 199}\n")
	writeFile(t, filepath.Join(dir, "a.yml"), "slos:\n  - {name: a2, service: s, objective: 99}\n")
	cur, err := Load(context.Background(), glob)
	if err == nil {
		t.Fatal("objective 199 loaded")
	}
	var names []string
	for _, s := range cur.KeepFailed(old).SLOs() {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, " "); got != "a2.availability a2.latency b.availability b.latency" {
		t.Errorf("after a failed reload: %s", got)
	}
}
