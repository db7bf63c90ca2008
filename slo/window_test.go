package slo

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/storage"
	"go.yaml.in/yaml/v3"
)

// windowEvalStep is how often TestWindowFromRecordedSeries evaluates the 5m rules over its
// 7 days: every 5m (the windows tile the range) keeps the test short; doc.go's figures are
// at 1m, a running Vigil's default (-window-eval-step=1m).
var windowEvalStep = flag.Duration("window-eval-step", 5*time.Minute, "evaluation interval of the 5m rules in TestWindowFromRecordedSeries")

// baseRulesOnly keeps the rules that record at the base window (the 5m ratio and event
// rates), which are all the SLO window's ratio is derived from.
func baseRulesOnly(t *testing.T, set *Set) []byte {
	t.Helper()
	groups, err := set.Groups(RuleOptions{GoldenSignals: GoldenSignals{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	var out rulefmt.RuleGroups
	for _, g := range groups.Groups {
		var keep []rulefmt.Rule
		for _, r := range g.Rules {
			switch r.Record {
			case ErrorRatioMetric(baseWindow), EventsRateMetric, ErrorsRateMetric:
				keep = append(keep, r)
			}
		}
		g.Rules = keep
		out.Groups = append(out.Groups, g)
	}
	b, err := yaml.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The SLO window's ratio derived from the recorded 5m series, against the same ratio read
// from raw samples, over the synthetic histories of TestBudgetRemaining (steady traffic,
// occurrences and time slices) and one whose traffic swings tenfold over the day while its
// errors come at night. The rules record every -window-eval-step (5m; doc.go's figures are at
// 1m) for the whole 7d window. Event weighting (what the rules use for an SLI of events) stays within 0.1
// percentage point of budget of the raw value; the time average of the 5m ratio (Sloth's
// way) is logged beside it: exact for steady traffic and time slices, off by several budget
// points when traffic swings. The figures are in doc.go.
func TestWindowFromRecordedSeries(t *testing.T) {
	if testing.Short() {
		t.Skip("evaluates the 5m rules at every minute of 7 days")
	}
	s := openStore(t)
	end := time.Date(2025, 3, 13, 12, 0, 0, 0, time.UTC)
	from := end.Add(-8 * 24 * time.Hour)
	// Diurnal traffic: 10 to 190 requests a minute, peaking at noon; 2% of the requests
	// fail between 22:00 and 04:00, 0.01% otherwise.
	night := func(ts time.Time) bool { h := ts.Hour(); return h >= 22 || h < 4 }
	traffic := func(ts time.Time) float64 {
		return 100 * (1 - 0.9*math.Cos(2*math.Pi*float64(ts.Hour()*60+ts.Minute())/1440))
	}
	perMinute, per15s := budgetHistory(from, end)
	perMinute = append(perMinute,
		counter(labels.FromStrings("__name__", "diurnal_requests_total"), from, traffic),
		counter(labels.FromStrings("__name__", "diurnal_errors_total"), from, func(ts time.Time) float64 {
			if night(ts) {
				return 0.02 * traffic(ts)
			}
			return 0.0001 * traffic(ts)
		}),
	)
	set := mustLoad(t, map[string]string{"budget.yml": budgetSpecs + `  - name: diurnal
    service: web
    objective: 99
    window: 7d
    sli:
      availability: {errors: diurnal_errors_total, total: diurnal_requests_total}
`})
	// The rule manager drops out-of-order results, as a running Vigil's does, so history
	// and evaluations advance together, an hour at a time.
	base := s.loadGroups(t, baseRulesOnly(t, set))
	evalFrom := end.Add(-7*24*time.Hour - 10*time.Minute)
	for h := from; !h.After(end); h = h.Add(time.Hour) {
		last := h.Add(time.Hour) // exclusive
		if last.After(end) {
			last = end.Add(time.Minute)
		}
		s.write(t, h, last.Add(-time.Minute), time.Minute, perMinute...)
		s.write(t, h, last.Add(-15*time.Second), 15*time.Second, per15s...)
		for ts := h; ts.Before(last); ts = ts.Add(*windowEvalStep) {
			if !ts.Before(evalFrom) {
				evalAll(base, ts)
			}
		}
	}
	yml, err := set.RuleGroups(RuleOptions{GoldenSignals: GoldenSignals{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	evalAll(s.loadGroups(t, yml), end)
	api := NewAPI(s.engine, s.db, func() *Set { return set })

	scalar := func(q string) float64 {
		t.Helper()
		v := s.query(t, q, end)
		if len(v) != 1 {
			t.Fatalf("%s: %v", q, v)
		}
		return v[0].F
	}
	for _, name := range []string{"rolling", "slices", "diurnal"} {
		o, _ := set.Get(name)
		budget := o.ErrorBudget()
		sel := `{slo="` + name + `"}`
		raw := BudgetRemaining(scalar(o.ErrorRatioOver(o.Window.Rolling)), budget)
		avg := BudgetRemaining(scalar("avg_over_time("+ErrorRatioMetric(baseWindow)+sel+"[7d])"), budget)
		derived := BudgetRemaining(scalar(o.recordedRatioOver(o.Window.Rolling)), budget)
		line := fmt.Sprintf("%-8s budget remaining: raw %.4f%%, time-average of the 5m ratio %.4f%% (%+.4f pp)", name, raw*100, avg*100, (avg-raw)*100)
		if o.eventWeighted() {
			ev := BudgetRemaining(scalar("sum_over_time("+ErrorsRateMetric+sel+"[7d]) / sum_over_time("+EventsRateMetric+sel+"[7d])"), budget)
			line += fmt.Sprintf(", event-weighted %.4f%% (%+.4f pp)", ev*100, (ev-raw)*100)
		}
		t.Log(line)
		if math.Abs(derived-raw) > 0.001 {
			t.Errorf("%s: derived budget remaining %.6f, raw %.6f: more than 0.1 percentage point apart", name, derived, raw)
		}
		st := getStatus(t, api, name, end)
		if st.WindowSource != "recorded" {
			t.Errorf("%s: window source %q after 7d of recording, want recorded", name, st.WindowSource)
		}
		near(t, name+" API budget remaining", st.BudgetRemaining, derived, 1e-9)
	}
	// The calendar week began on Monday, 3.5 days before end, which the recorded series
	// cover: the API derives the elapsed part from them, and the burn-down too.
	cal := getStatus(t, api, "calendar", end)
	if cal.WindowSource != "recorded" || len(cal.Series.BudgetRemaining) == 0 {
		t.Errorf("calendar: window source %q, %d burn-down points", cal.WindowSource, len(cal.Series.BudgetRemaining))
	}
	near(t, "calendar budget remaining", cal.BudgetRemaining, 1-144.0/504000/0.001, 0.001)
}

// windowCostStore holds n request counters (half of them failures) at 1m over 30 days, and
// the base-window rates the rules would have recorded from them every minute.
func windowCostStore(tb testing.TB, s *store, n int, end time.Time) {
	from := end.Add(-30*24*time.Hour - 10*time.Minute)
	ls := make([]labels.Labels, n)
	for i := range ls {
		code := "200"
		if i%2 == 1 {
			code = "500"
		}
		ls[i] = labels.FromStrings("__name__", "requests_total", "instance", strconv.Itoa(i/2), "code", code)
	}
	rec := []labels.Labels{
		labels.FromStrings("__name__", EventsRateMetric, "slo", "api", "service", "api"),
		labels.FromStrings("__name__", ErrorsRateMetric, "slo", "api", "service", "api"),
		labels.FromStrings("__name__", ErrorRatioMetric(baseWindow), "slo", "api", "service", "api"),
	}
	app := s.db.AppenderV2(context.Background())
	k := 0
	for ts, i := from, 0.0; !ts.After(end); ts, i = ts.Add(time.Minute), i+1 {
		for j, l := range ls {
			v := i * 100
			if j%2 == 1 {
				v = i * 0.1
			}
			if _, err := app.Append(0, l, 0, ts.UnixMilli(), v, nil, nil, storage.AOptions{}); err != nil {
				tb.Fatal(err)
			}
		}
		for j, l := range rec {
			v := []float64{float64(n) * 50 / 60, float64(n) * 0.05 / 60, 0.001}[j]
			if _, err := app.Append(0, l, 0, ts.UnixMilli(), v, nil, nil, storage.AOptions{}); err != nil {
				tb.Fatal(err)
			}
		}
		if k += n + len(rec); k > 100_000 {
			if err := app.Commit(); err != nil {
				tb.Fatal(err)
			}
			app, k = s.db.AppenderV2(context.Background()), 0
		}
	}
	if err := app.Commit(); err != nil {
		tb.Fatal(err)
	}
}

const costSpec = `slos:
  - name: api
    service: api
    objective: 99.9
    window: 30d
    sli:
      availability:
        errors: sum(rate(requests_total{code="500"}[{{.window}}]))
        total: sum(rate(requests_total[{{.window}}]))
`

// samplesRead evaluates q at ts and returns the samples the engine read for it.
func samplesRead(tb testing.TB, s *store, q string, ts time.Time) int64 {
	qry, err := s.engine.NewInstantQuery(context.Background(), s.db, nil, q, ts)
	if err != nil {
		tb.Fatalf("query %s: %v", q, err)
	}
	defer qry.Close()
	if res := qry.Exec(context.Background()); res.Err != nil {
		tb.Fatalf("query %s: %v", q, res.Err)
	}
	return qry.Stats().Samples.TotalSamples
}

// The 30d window's ratio from the recorded 5m rates reads two samples per minute of the
// window, whatever the number of source series; from raw samples it reads every sample of
// every series. Counts, not time: they do not depend on the machine's load.
func TestWindowRuleCost(t *testing.T) {
	s := openStore(t)
	end := time.Date(2025, 3, 13, 12, 0, 0, 0, time.UTC)
	const n = 4
	windowCostStore(t, s, n, end)
	set := mustLoad(t, map[string]string{"cost.yml": costSpec})
	o, _ := set.Get("api")
	raw := samplesRead(t, s, o.ErrorRatioOver(o.Window.Rolling), end)
	derived := samplesRead(t, s, o.recordedRatioOver(o.Window.Rolling), end)
	t.Logf("30d window over %d series at 1m: %d samples read from raw data, %d from the recorded 5m rates", n, raw, derived)
	if minutes := int64(30 * 24 * 60); raw < n*minutes || derived > 2*minutes+2 {
		t.Errorf("samples read: raw %d (want at least %d), derived %d (want at most %d)", raw, n*minutes, derived, 2*minutes+2)
	}
}

// BenchmarkWindowRule is one evaluation of the 30d window's ratio over 50 series of 1m
// data (25 instances, successes and failures): from raw samples as before, and from the
// recorded 5m rates. samples/op is the engine's count of samples read.
//
//	go test ./slo/ -run '^$' -bench BenchmarkWindowRule -benchtime 20x
func BenchmarkWindowRule(b *testing.B) {
	s := openStore(b)
	end := time.Date(2025, 3, 13, 12, 0, 0, 0, time.UTC)
	windowCostStore(b, s, 50, end)
	spec := filepath.Join(b.TempDir(), "cost.yml")
	if err := os.WriteFile(spec, []byte(costSpec), 0o600); err != nil {
		b.Fatal(err)
	}
	set, err := Load(context.Background(), []string{spec})
	if err != nil {
		b.Fatal(err)
	}
	o, _ := set.Get("api")
	for _, c := range []struct{ name, q string }{
		{"raw", o.ErrorRatioOver(o.Window.Rolling)},
		{"recorded", o.recordedRatioOver(o.Window.Rolling)},
	} {
		b.Run(c.name, func(b *testing.B) {
			var n int64
			for b.Loop() {
				n = samplesRead(b, s, c.q, end)
			}
			b.ReportMetric(float64(n), "samples/op")
		})
	}
}

// Which SLO windows are derived from the recorded 5m series, and how late those series may
// begin and still cover a range.
func TestWindowDerivation(t *testing.T) {
	f := func(window time.Duration, calendar Calendar, alerts []BurnAlert, want bool) {
		t.Helper()
		s := &SLO{Window: Window{Rolling: window, Calendar: calendar}, BurnAlerts: alerts}
		if got := s.windowFromRecorded(); got != want {
			t.Errorf("window %s %s with alerts %v: derived %v, want %v", window, calendar, alerts, got, want)
		}
	}
	f(30*24*time.Hour, "", DefaultBurnAlerts(), true)
	f(0, CalendarWeek, DefaultBurnAlerts(), true)
	f(72*time.Hour, "", nil, false)                                                         // a fixed recorded window: raw, as before
	f(5*time.Minute, "", nil, false)                                                        // the base window itself
	f(10*time.Minute, "", []BurnAlert{{Long: 10 * time.Minute, Short: time.Minute}}, false) // an alert's window
	f(10*time.Minute, "", nil, true)

	g := func(rng, want time.Duration) {
		t.Helper()
		if got := coverageTolerance(rng); got != want {
			t.Errorf("coverageTolerance(%s) = %s, want %s", rng, got, want)
		}
	}
	g(30*24*time.Hour, 43*time.Minute+12*time.Second)
	g(7*24*time.Hour, 10*time.Minute+4800*time.Millisecond)
	g(24*time.Hour, 10*time.Minute)
	g(time.Hour, 6*time.Minute)
	g(10*time.Minute, time.Minute)
}
