package main

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestSLOFromVictoriaMetricsHistory: an SLO over 7 days whose samples are all in a
// VictoriaMetrics source (a Vigil with a fresh disk holds none of them) gets its budget from
// that history, equal to the hand-computed value.
func TestSLOFromVictoriaMetricsHistory(t *testing.T) {
	vm := startVictoriaMetrics(t)

	// 8 days of two counters every 5 minutes, ending now: 3,000 requests a step; 30 errors a
	// step until 7d1h ago (outside the window: a budget counting them would be spent), then 1
	// a step, then 2 a step for the last 3.5 days.
	const step = 5 * time.Minute
	end := time.Now().Truncate(step)
	start := end.Add(-8 * 24 * time.Hour)
	errorsAt := func(ts time.Time) float64 {
		switch {
		case ts.Before(end.Add(-7*24*time.Hour - time.Hour)):
			return 30
		case ts.Before(end.Add(-84 * time.Hour)):
			return 1
		default:
			return 2
		}
	}
	ok := importLine{Metric: map[string]string{"__name__": "http_requests_total", "job": "checkout", "code": "200"}}
	bad := importLine{Metric: map[string]string{"__name__": "http_requests_total", "job": "checkout", "code": "500"}}
	okN, badN := 1e6, 1e4 // counters long past zero, so rate() extrapolates both alike
	var stamps []time.Time
	for ts := start; !ts.After(end); ts = ts.Add(step) {
		e := errorsAt(ts)
		okN += 3000 - e
		badN += e
		ok.Timestamps = append(ok.Timestamps, ts.UnixMilli())
		ok.Values = append(ok.Values, okN)
		bad.Timestamps = append(bad.Timestamps, ts.UnixMilli())
		bad.Values = append(bad.Values, badN)
		stamps = append(stamps, ts)
	}
	vm.importLines(importBody(t, ok, bad))

	dir := t.TempDir()
	spec := `
slos:
  - name: checkout-7d
    service: checkout
    objective: 99.9
    window: 7d
    sli:
      availability:
        errors: sum(rate(http_requests_total{job="checkout",code=~"5.."}[{{.window}}]))
        total:  sum(rate(http_requests_total{job="checkout"}[{{.window}}]))
`
	if err := os.WriteFile(filepath.Join(dir, "slos.yml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	c, cfg := configIn(t, dir, fmt.Sprintf(`
slo:
  files: [slos.yml]
alerting:
  evaluation_interval: 1s
metrics:
  retention: 2d
query:
  metrics_sources:
    - name: vm
      url: %s
`, vm.url()))
	a := newTestApp(t, c, cfg)
	stop := startApp(t, a)
	base := waitAddr(t, a)
	eventually(t, "ready", func() bool { code, _ := get(t, base+"/readyz"); return code == 200 })

	// By hand: the window (t-7d, t] holds the samples after t-7d; the error ratio is their
	// errors over their requests (both counters share timestamps, so rate()'s extrapolation
	// cancels out), and budget remaining = 1 - ratio / (1 - 0.999).
	want := func(at time.Time) float64 {
		var errs, total float64
		first := true
		for _, ts := range stamps {
			if !ts.After(at.Add(-7 * 24 * time.Hour)) {
				continue
			}
			if first { // the first sample in the window starts the increase
				first = false
				continue
			}
			errs += errorsAt(ts)
			total += 3000
		}
		return 1 - errs/total/0.001
	}
	var got *float64
	eventually(t, "the SLO's budget", func() bool {
		code, body := get(t, base+"/api/v1/slos/"+url.PathEscape("checkout-7d"))
		var r struct {
			Data struct {
				BudgetRemaining *float64 `json:"budget_remaining"`
			}
		}
		if code != 200 || json.Unmarshal([]byte(body), &r) != nil {
			t.Fatalf("/api/v1/slos/checkout-7d: %d %s", code, body)
		}
		got = r.Data.BudgetRemaining
		return got != nil
	})
	resp, err := http.Get(base + "/api/v1/slos/checkout-7d")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Vigil-Sources"); got != "local=ok, vm=ok" {
		t.Errorf("X-Vigil-Sources of the SLO = %q, want local=ok, vm=ok (its burn-down covers the 7 days)", got)
	}
	w := want(time.Now())
	t.Logf("budget remaining over 7d from VictoriaMetrics: %.4f%%, by hand %.4f%%", *got*100, w*100)
	// 0.1 percentage point.
	if math.Abs(*got-w) > 0.001 {
		t.Errorf("budget remaining = %.4f%%, want %.4f%% ± 0.1pp", *got*100, w*100)
	}
	if err := stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
}
