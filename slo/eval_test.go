package slo

import (
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// getStatus asks the API for one SLO at ts.
func getStatus(t *testing.T, h http.Handler, name string, ts time.Time) Status {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/slos/"+name+"?time="+strconv.FormatInt(ts.Unix(), 10), nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", name, rec.Code, rec.Body)
	}
	var body struct {
		Status string `json:"status"`
		Data   Status `json:"data"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Status != "success" {
		t.Fatalf("GET %s: %v %s", name, err, rec.Body)
	}
	return body.Data
}

func near(t *testing.T, what string, got *float64, want, tol float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s = null, want %.6f", what, want)
		return
	}
	if math.Abs(*got-want) > tol {
		t.Errorf("%s = %.6f, want %.6f ± %g", what, *got, want, tol)
	}
}

// Budget remaining over a known history, by hand:
//   - occurrences, 7d rolling, 99.9%: 100 requests a minute; 0.1 errors a minute during 3.5 of
//     the 7 days: error ratio 0.0005, half the 0.001 budget, so 50% remains;
//   - the same series in a calendar week that started 3.5 days ago (Monday 00:00): errors on
//     1 of its 3.5 days: ratio 144/504000, remaining 1 - 0.285714 = 71.4286%;
//   - timeslices, 7d, 99% of 1m slices good (a slice is good with 95% good requests): 50
//     bad minutes of 10080: remaining 1 - (50/10080)/0.01 = 50.3968%.
func TestBudgetRemaining(t *testing.T) {
	s := openStore(t)
	end := time.Date(2025, 3, 13, 12, 0, 0, 0, time.UTC) // a Thursday
	from := end.Add(-8 * 24 * time.Hour)
	perMinute, per15s := budgetHistory(from, end)
	s.write(t, from, end, time.Minute, perMinute...)
	s.write(t, from, end, 15*time.Second, per15s...)
	set := mustLoad(t, map[string]string{"budget.yml": budgetSpecs})
	yml, err := set.RuleGroups(RuleOptions{GoldenSignals: GoldenSignals{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	evalAll(s.loadGroups(t, yml), end)
	api := NewAPI(s.engine, s.db, func() *Set { return set })

	rolling := getStatus(t, api, "rolling", end)
	// The rules ran once: their recorded 5m series do not cover the window, so the API
	// reads the window's ratio from raw samples.
	if rolling.WindowSource != "raw" {
		t.Errorf("rolling: window source %q with one evaluation recorded, want raw", rolling.WindowSource)
	}
	near(t, "rolling budget remaining", rolling.BudgetRemaining, 0.5, 0.001)
	near(t, "rolling SLI", rolling.SLI, 0.9995, 1e-6)
	near(t, "rolling 3d burn rate", rolling.BurnRates["3d"], 1.0/6, 0.001) // 12h of 0.1% errors in 3d
	near(t, "rolling 1h burn rate", rolling.BurnRates["1h"], 0, 1e-9)
	if rolling.AlertState != "inactive" || len(rolling.Series.BudgetRemaining) == 0 {
		t.Errorf("rolling: alert state %s, %d burn-down points", rolling.AlertState, len(rolling.Series.BudgetRemaining))
	}
	cal := getStatus(t, api, "calendar", end)
	near(t, "calendar budget remaining", cal.BudgetRemaining, 1-144.0/504000/0.001, 0.001)
	slices := getStatus(t, api, "slices", end)
	near(t, "timeslices budget remaining", slices.BudgetRemaining, 1-(50.0/10080)/0.01, 0.001)
}

// budgetHistory is the known history of TestBudgetRemaining ending at end, as new counters:
// per minute, 100 requests of job api and 0.1 failures a minute in [end-6d, end-60h); per 15s,
// 25 requests and 12.5 failures a step for 50 minutes from end-48h.
func budgetHistory(from, end time.Time) (perMinute, per15s []series) {
	errFrom, errTo := end.Add(-6*24*time.Hour), end.Add(-60*time.Hour)
	badFrom := end.Add(-48 * time.Hour)
	perMinute = []series{
		counter(labels.FromStrings("__name__", "http_requests_total", "job", "api"), from, func(time.Time) float64 { return 100 }),
		counter(labels.FromStrings("__name__", "http_requests_total", "job", "api", "code", "500"), from, func(ts time.Time) float64 {
			if ts.After(errFrom) && !ts.After(errTo) {
				return 0.1
			}
			return 0
		}),
	}
	per15s = []series{
		counter(labels.FromStrings("__name__", "ts_requests_total"), from, func(time.Time) float64 { return 25 }),
		counter(labels.FromStrings("__name__", "ts_errors_total"), from, func(ts time.Time) float64 {
			if ts.After(badFrom) && !ts.After(badFrom.Add(50*time.Minute)) {
				return 12.5
			}
			return 0
		}),
	}
	return perMinute, per15s
}

// budgetSpecs are the SLOs over budgetHistory: occurrences over 7d rolling and the calendar
// week, and time slices over 7d.
const budgetSpecs = `slos:
  - name: rolling
    service: api
    objective: 99.9
    window: 7d
    sli:
      availability:
        errors: sum(rate(http_requests_total{job="api",code=~"5.."}[{{.window}}]))
        total: sum(rate(http_requests_total{job="api"}[{{.window}}]))
  - name: calendar
    service: api
    objective: 99.9
    calendar: week
    sli:
      availability:
        errors: sum(rate(http_requests_total{job="api",code=~"5.."}[{{.window}}]))
        total: sum(rate(http_requests_total{job="api"}[{{.window}}]))
  - name: slices
    service: api
    objective: 99
    window: 7d
    budgeting: timeslices
    timeslice: {window: 1m, target: 95}
    sli:
      availability: {errors: ts_errors_total, total: ts_requests_total}
`
