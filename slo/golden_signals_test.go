package slo

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// Each default golden-signal alert fires on its symptom, after its `for`, and on nothing else:
// healthy services, a service whose override raises the threshold above its symptom, and a
// disabled one stay quiet.
func TestGoldenSignals(t *testing.T) {
	s := openStore(t)
	t0 := time.Date(2025, 3, 13, 10, 0, 0, 0, time.UTC)
	symptom := t0.Add(90 * time.Minute)
	end := symptom.Add(35 * time.Minute)
	after := func(v0, v1 float64) func(time.Time) float64 {
		return func(ts time.Time) float64 {
			if ts.After(symptom) {
				return v1
			}
			return v0
		}
	}
	gauge := func(svc string, f func(time.Time) float64) series {
		return series{labels: labels.FromStrings("__name__", "cpu_utilization", "service_name", svc), value: f}
	}
	var ss []series
	service := func(name string, ok, errs, slow func(time.Time) float64) {
		ss = append(ss, spanCalls(name, server, okCode, t0, ok), spanCalls(name, server, errCode, t0, errs))
		total := func(ts time.Time) float64 { return ok(ts) + errs(ts) - slow(ts) }
		ss = append(ss, spanDurations(name, t0, 50, 800, total, slow)...)
	}
	service("cart", constant(100), constant(0), constant(0))
	service("slow", constant(100), constant(0), after(0, 100))
	service("failing", after(100, 95), after(0, 5), constant(0))
	service("dropping", after(100, 20), constant(0), constant(0))
	service("tuned", after(100, 95), after(0, 5), constant(0))
	service("off", after(100, 50), after(0, 50), constant(0))
	ss = append(ss, gauge("cart", constant(0.5)), gauge("hot", after(0.5, 0.95)))
	s.write(t, t0, end, 15*time.Second, ss...)

	gs := GoldenSignals{
		Saturation: Signal{Query: "max by (service_name) (cpu_utilization)"},
		Services: []ServiceSignals{
			{Name: "tuned", Errors: Signal{Threshold: 0.1}},
			{Name: "off", Disabled: true},
		},
	}
	yml, err := (&Set{}).RuleGroups(RuleOptions{GoldenSignals: gs})
	if err != nil {
		t.Fatal(err)
	}
	groups := s.loadGroups(t, yml)
	first := map[string]time.Time{}
	for ts := symptom.Add(-10 * time.Minute); !ts.After(end); ts = ts.Add(time.Minute) {
		evalAll(groups, ts)
		for _, a := range s.query(t, `ALERTS{alertstate="firing"}`, ts) {
			key := a.Metric.Get("alertname") + "/" + a.Metric.Get("service") + "/" + a.Metric.Get("severity")
			if _, ok := first[key]; !ok {
				first[key] = ts
			}
		}
	}
	var got []string
	for k, ts := range first {
		got = append(got, fmt.Sprintf("%s after %s", k, ts.Sub(symptom)))
	}
	sort.Strings(got)
	t.Logf("fired: %s", strings.Join(got, "; "))
	want := map[string][2]time.Duration{ // earliest and latest first firing after the symptom
		"GoldenSignalLatency/slow/high":           {5 * time.Minute, 8 * time.Minute},
		"GoldenSignalErrors/failing/high":         {3 * time.Minute, 6 * time.Minute},
		"GoldenSignalTrafficDrop/dropping/medium": {5 * time.Minute, 15 * time.Minute},
		"GoldenSignalSaturation/hot/medium":       {10 * time.Minute, 12 * time.Minute},
	}
	for k, w := range want {
		ts, ok := first[k]
		if !ok {
			t.Errorf("%s never fired", k)
			continue
		}
		if d := ts.Sub(symptom); d < w[0] || d > w[1] {
			t.Errorf("%s first fired %s after the symptom, want in [%s, %s]", k, d, w[0], w[1])
		}
	}
	for k := range first {
		if _, ok := want[k]; !ok {
			t.Errorf("%s fired on healthy or excluded traffic", k)
		}
	}
}
