package slo

import (
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// A total outage of a 99.9% SLO burns the budget 1000x: the Workbook's fast-burn page (14.4x
// over 1h and 5m) needs 0.0144 of the last hour bad, 52 s of outage, so it must fire within
// two one-minute evaluations of the start, not before, stay firing through the outage and
// resolve once the 5m window is clean (5 minutes after the end, plus one evaluation).
func TestFastBurnPage(t *testing.T) {
	s := openStore(t)
	incident := time.Date(2025, 3, 13, 12, 0, 0, 0, time.UTC)
	from, end := incident.Add(-3*time.Hour), incident.Add(50*time.Minute)
	bad := func(ts time.Time) bool { return ts.After(incident) && !ts.After(incident.Add(30*time.Minute)) }
	s.write(t, from, end, 15*time.Second,
		counter(labels.FromStrings("__name__", "calls_total"), from, func(time.Time) float64 { return 25 }),
		counter(labels.FromStrings("__name__", "errors_total"), from, func(ts time.Time) float64 {
			if bad(ts) {
				return 25
			}
			return 0
		}),
	)
	set := mustLoad(t, map[string]string{"checkout.yml": `slos:
  - name: checkout-availability
    service: checkout
    objective: 99.9
    sli: {availability: {errors: errors_total, total: calls_total}}
`})
	yml, err := set.RuleGroups(RuleOptions{GoldenSignals: GoldenSignals{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	groups := s.loadGroups(t, yml)
	api := NewAPI(s.engine, s.db, func() *Set { return set })
	var firstFire, lastFire time.Time
	for ts := incident.Add(-10 * time.Minute); !ts.After(end); ts = ts.Add(time.Minute) {
		evalAll(groups, ts)
		page := s.query(t, `ALERTS{alertname="ErrorBudgetBurn", alertstate="firing", long_window="1h", severity="critical", slo="checkout-availability", service="checkout"}`, ts)
		if len(page) == 0 {
			continue
		}
		if firstFire.IsZero() {
			firstFire = ts
		}
		lastFire = ts
		if ts.Equal(incident.Add(10 * time.Minute)) {
			st := getStatus(t, api, "checkout-availability", ts)
			if st.AlertState != "firing" {
				t.Errorf("API alert state during the outage = %s", st.AlertState)
			}
			near(t, "5m burn rate during the outage", st.BurnRates["5m"], 1000, 1)
		}
	}
	switch {
	case firstFire.IsZero():
		t.Fatal("the fast-burn page never fired")
	case !firstFire.After(incident):
		t.Errorf("page fired at %s, before the outage", firstFire)
	case firstFire.After(incident.Add(2 * time.Minute)):
		t.Errorf("page fired %s after the outage began, want within 2m", firstFire.Sub(incident))
	}
	resolvedBy := incident.Add(30*time.Minute + 6*time.Minute)
	if lastFire.After(resolvedBy) || lastFire.Before(incident.Add(30*time.Minute)) {
		t.Errorf("page last fired %s after the outage began, want between 30m and 36m", lastFire.Sub(incident))
	}
}
