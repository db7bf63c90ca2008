package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage/remote"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
)

// These tests drive the SLO engine through the binary's wiring: specs and golden-signal
// overrides from the config file, data through Prometheus's remote-write client and the
// OpenTelemetry SDK's OTLP exporter, rules evaluated by the app's rule manager, alerts
// delivered by the alert router to a loopback webhook, and the answers read from
// /api/v1/slos. The slo package's unit tests cover the same arithmetic on synthetic TSDB
// appends; here the point is the real ingest path and the wiring.

// sloApp starts Vigil from a config directory holding the given files; extra is appended to
// vigil.yml.
func sloApp(t *testing.T, files map[string]string, extra string) (base string, a *app, dir string) {
	t.Helper()
	dir = t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c, cfg := configIn(t, dir, extra)
	a = newTestApp(t, c, cfg)
	stop := startApp(t, a)
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	base = waitAddr(t, a)
	eventually(t, "ready", func() bool { code, _ := get(t, base+"/readyz"); return code == 200 })
	return base, a, dir
}

// sloStatus is the part of /api/v1/slos/{name} these tests read.
type sloStatus struct {
	Name            string              `json:"name"`
	SLI             *float64            `json:"sli"`
	BudgetRemaining *float64            `json:"budget_remaining"`
	BurnRates       map[string]*float64 `json:"burn_rates"`
	WindowSource    string              `json:"window_source"`
	AlertState      string              `json:"alert_state"`
}

func getSLO(t *testing.T, base, name string, at time.Time) sloStatus {
	t.Helper()
	u := base + "/api/v1/slos/" + url.PathEscape(name)
	if !at.IsZero() {
		u += "?time=" + strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64)
	}
	code, body := get(t, u)
	var r struct {
		Status string
		Data   sloStatus
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil || code != 200 || r.Status != "success" {
		t.Fatalf("GET %s: %d %s (%v)", u, code, body, err)
	}
	return r.Data
}

func wantNear(t *testing.T, what string, got *float64, want, tol float64) {
	t.Helper()
	switch {
	case got == nil:
		t.Errorf("%s = null, want %.6f", what, want)
	case math.Abs(*got-want) > tol:
		t.Errorf("%s = %.6f, want %.6f ± %g", what, *got, want, tol)
	}
}

// rwSeries is a synthetic series for remote write: value(t) at every step.
type rwSeries struct {
	labels []prompb.Label
	value  func(t time.Time) float64
}

func rwLabels(kv ...string) []prompb.Label {
	var ls []prompb.Label
	for i := 0; i < len(kv); i += 2 {
		ls = append(ls, prompb.Label{Name: kv[i], Value: kv[i+1]})
	}
	sort.Slice(ls, func(i, j int) bool { return ls[i].Name < ls[j].Name })
	return ls
}

// rwCounter is a counter starting at start that grows by perStep(t) at every step after from.
// Its value function must be called in time order, once per step.
func rwCounter(ls []prompb.Label, from time.Time, start float64, perStep func(t time.Time) float64) rwSeries {
	total := start
	return rwSeries{labels: ls, value: func(t time.Time) float64 {
		if t.After(from) {
			total += perStep(t)
		}
		return total
	}}
}

// writeHistory sends every series at every step of [from, to] with Prometheus's remote-write
// client, in time order, batch after batch of at most batch worth of time.
func writeHistory(t *testing.T, base string, from, to time.Time, step, batch time.Duration, ss ...rwSeries) {
	t.Helper()
	for lo := from; !lo.After(to); lo = lo.Add(batch) {
		ts := make([]prompb.TimeSeries, len(ss))
		for i, s := range ss {
			ts[i].Labels = s.labels
		}
		for at := lo; at.Before(lo.Add(batch)) && !at.After(to); at = at.Add(step) {
			for i, s := range ss {
				ts[i].Samples = append(ts[i].Samples, prompb.Sample{Timestamp: at.UnixMilli(), Value: s.value(at)})
			}
		}
		// As Prometheus's queue manager does, a recoverable failure (a network error, 5xx,
		// 429) is retried: the samples are idempotent. Seen once in a loaded full run: EOF.
		for attempt := 1; ; attempt++ {
			err := remoteWriteV1(t, base, ts...)
			if err == nil {
				break
			}
			var rec remote.RecoverableError
			if !errors.As(err, &rec) || attempt == 5 {
				t.Fatalf("remote write of the history from %s (attempt %d): %v", lo.Format(time.RFC3339), attempt, err)
			}
			t.Logf("remote write of the history from %s (attempt %d): %v; retrying", lo.Format(time.RFC3339), attempt, err)
			time.Sleep(time.Duration(attempt) * 200 * time.Millisecond)
		}
	}
}

// TestSLOBudgetThroughRemoteWrite: a known error history sent with Prometheus's remote-write
// client gives /api/v1/slos the hand-computed budget remaining, to 0.1 percentage point, for
// occurrences and time slices, over a 7d rolling window and over the calendar week.
//
// The history ends at end (the last whole minute): 100.1 requests a minute, of which 0.1 fail
// during [end-6d, end-60h) (3.5 days); a second pair of counters has 25 requests a 15 s step
// and 12.5 failures a step for 50 minutes two days ago (50 bad one-minute slices).
func TestSLOBudgetThroughRemoteWrite(t *testing.T) {
	t.Parallel()
	base, _, _ := sloApp(t, map[string]string{"slos.yml": `slos:
  - name: rolling
    service: api
    objective: 99.9
    window: 7d
    sli:
      availability:
        errors: sum(rate(e2e_http_requests_total{job="api",code=~"5.."}[{{.window}}]))
        total: sum(rate(e2e_http_requests_total{job="api"}[{{.window}}]))
  - name: calendar
    service: api
    objective: 99.9
    calendar: week
    sli:
      availability:
        errors: sum(rate(e2e_http_requests_total{job="api",code=~"5.."}[{{.window}}]))
        total: sum(rate(e2e_http_requests_total{job="api"}[{{.window}}]))
  - name: slices
    service: api
    objective: 99
    window: 7d
    budgeting: timeslices
    timeslice: {window: 1m, target: 95}
    sli:
      availability: {errors: e2e_ts_errors_total, total: e2e_ts_requests_total}
  - name: calendar-slices
    service: api
    objective: 99
    calendar: week
    budgeting: timeslices
    timeslice: {window: 1m, target: 95}
    sli:
      availability: {errors: e2e_ts_errors_total, total: e2e_ts_requests_total}
`}, "slo:\n  files: [slos.yml]\nmetrics:\n  out_of_order_window: 10d\n")

	end := time.Now().UTC().Truncate(time.Minute).Add(-time.Minute)
	from := end.Add(-8 * 24 * time.Hour)
	errFrom, errTo := end.Add(-6*24*time.Hour), end.Add(-60*time.Hour)
	failing := func(ts time.Time) bool { return !ts.Before(errFrom) && ts.Before(errTo) }
	writeHistory(t, base, from, end, time.Minute, 24*time.Hour,
		rwCounter(rwLabels("__name__", "e2e_http_requests_total", "job", "api", "code", "200"), from, 0, func(time.Time) float64 { return 100 }),
		rwCounter(rwLabels("__name__", "e2e_http_requests_total", "job", "api", "code", "500"), from, 0, func(ts time.Time) float64 {
			if failing(ts) {
				return 0.1
			}
			return 0
		}),
	)
	badFrom := end.Add(-48 * time.Hour)
	slicesFrom := end.Add(-7*24*time.Hour - 10*time.Minute)
	writeHistory(t, base, slicesFrom, end, 15*time.Second, 6*time.Hour,
		rwCounter(rwLabels("__name__", "e2e_ts_requests_total"), slicesFrom, 0, func(time.Time) float64 { return 25 }),
		rwCounter(rwLabels("__name__", "e2e_ts_errors_total"), slicesFrom, 0, func(ts time.Time) float64 {
			if ts.After(badFrom) && !ts.After(badFrom.Add(50*time.Minute)) {
				return 12.5
			}
			return 0
		}),
	)

	// By hand: errors and requests per minute summed over the minutes of a range.
	ratioOver := func(lo, hi time.Time) float64 {
		var errs, total float64
		for ts := lo.Add(time.Minute); !ts.After(hi); ts = ts.Add(time.Minute) {
			total += 100
			if failing(ts) {
				errs += 0.1
				total += 0.1
			}
		}
		return errs / total
	}
	rolling := getSLO(t, base, "rolling", end)
	// The rules have recorded for seconds, not the window: the API reads raw samples.
	if rolling.WindowSource != "raw" {
		t.Errorf("rolling window source %q, want raw", rolling.WindowSource)
	}
	wantNear(t, "rolling 7d budget remaining", rolling.BudgetRemaining, 1-ratioOver(end.Add(-7*24*time.Hour), end)/0.001, 0.001)
	wantNear(t, "rolling 7d SLI", rolling.SLI, 1-ratioOver(end.Add(-7*24*time.Hour), end), 1e-6)

	weekStart := end.AddDate(0, 0, -((int(end.Weekday()) + 6) % 7)).Truncate(24 * time.Hour)
	cal := getSLO(t, base, "calendar", end)
	wantNear(t, "calendar week budget remaining (week from "+weekStart.Format(time.DateOnly)+")", cal.BudgetRemaining,
		1-ratioOver(weekStart, end)/0.001, 0.001)

	slices := getSLO(t, base, "slices", end)
	wantNear(t, "timeslices budget remaining", slices.BudgetRemaining, 1-(50.0/10080)/0.01, 0.001)
	// The bad one-minute slices are the 50 minutes after badFrom; the week holds those after
	// its start.
	var bad, all float64
	for m := weekStart.Add(time.Minute); !m.After(end); m = m.Add(time.Minute) {
		all++
		if m.After(badFrom) && !m.After(badFrom.Add(50*time.Minute)) {
			bad++
		}
	}
	calSlices := getSLO(t, base, "calendar-slices", end)
	wantNear(t, fmt.Sprintf("calendar week timeslices budget remaining (%v bad slices of %v)", bad, all), calSlices.BudgetRemaining,
		1-(bad/all)/0.01, 0.001)
}

// hook is a loopback Alertmanager webhook receiver.
type hook struct {
	srv  *httptest.Server
	mu   sync.Mutex
	msgs []hookMsg
}

type hookMsg struct {
	Status string `json:"status"`
	Alerts []struct {
		Status   string            `json:"status"`
		Labels   map[string]string `json:"labels"`
		StartsAt time.Time         `json:"startsAt"`
		EndsAt   time.Time         `json:"endsAt"`
	} `json:"alerts"`
}

func newHook(t *testing.T) *hook {
	h := &hook{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m hookMsg
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("webhook body %s: %v", b, err)
		}
		h.mu.Lock()
		h.msgs = append(h.msgs, m)
		h.mu.Unlock()
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) got() []hookMsg {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookMsg(nil), h.msgs...)
}

// routeTo is an Alertmanager configuration sending everything to the webhook at once.
func routeTo(h *hook) string {
	return fmt.Sprintf(`route:
  receiver: hook
  group_by: [alertname, slo, service]
  group_wait: 100ms
  group_interval: 300ms
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs: [{url: '%s', send_resolved: true}]
`, h.srv.URL)
}

// sampleTimes returns the timestamps of the raw samples of a one-series selector in
// [from, to], read through /api/v1/query_range's sibling, an instant query of a range.
func sampleTimes(t *testing.T, base, sel string, from, to time.Time) []time.Time {
	t.Helper()
	rng := to.Sub(from).Truncate(time.Second) + time.Second
	q := fmt.Sprintf("%s[%ds]", sel, int(rng.Seconds()))
	resp, err := http.PostForm(base+"/api/v1/query", url.Values{"query": {q}, "time": {strconv.FormatFloat(float64(to.UnixMilli())/1000, 'f', 3, 64)}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Status string
		Data   struct {
			Result []struct{ Values [][2]any }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Status != "success" {
		t.Fatalf("query %s: %v %+v", q, err, r)
	}
	var out []time.Time
	for _, s := range r.Data.Result {
		for _, v := range s.Values {
			f, _ := v[0].(float64)
			out = append(out, time.UnixMilli(int64(math.Round(f*1000))).UTC())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

// TestSLOFastBurnPageThroughTheRouter: an outage written through remote write pages through
// the alert router (a webhook on loopback) at the time the SRE Workbook predicts, not
// before, and resolves after.
//
// The SLO is 99% with one page at 14.4x over 1m and 10s (the Workbook's 1h/5m pair scaled
// down, as burn_rates allows, so the test takes a minute). Requests are counted every second;
// the outage fails every request from O on. The Workbook's time to detect is
// 14.4 × (1 − 0.99) × 60 s ÷ 100% = 8.64 s; counted in one-second samples the 1m ratio is
// k/59 after k failed seconds, over 0.144 from k = 9. So the page must start at the first
// evaluation at or after O+9s and at none before. After the outage (20 s) the 10s window
// holds k/9 failed increments and drops to 0.144 or below at k ≤ 1: the page resolves at the
// first evaluation at or after E+8s, while the 1m window still burns.
func TestSLOFastBurnPageThroughTheRouter(t *testing.T) {
	t.Parallel()
	h := newHook(t)
	base, _, _ := sloApp(t, map[string]string{
		"slos.yml": `slos:
  - name: checkout-page
    service: checkout
    objective: 99
    window: 1d
    alerts:
      burn_rates: [{long: 1m, short: 10s, factor: 14.4, severity: critical}]
    sli:
      availability:
        errors: sum(rate(e2e_calls_total{job="checkout",code="500"}[{{.window}}]))
        total: sum(rate(e2e_calls_total{job="checkout"}[{{.window}}]))
`,
		"alertmanager.yml": routeTo(h),
	}, "slo:\n  files: [slos.yml]\nalerting:\n  evaluation_interval: 1s\n  config_file: alertmanager.yml\n")

	// The whole timeline is written up front (the receiver takes samples up to 10 minutes
	// ahead); the rules see each sample once its time has come, so a slow write cannot delay
	// the outage as the rules see it.
	now := time.Now().UTC().Truncate(time.Second)
	o := now.Add(20 * time.Second) // the last good second
	e := o.Add(20 * time.Second)   // the last failed second
	from, to := now.Add(-3*time.Minute), e.Add(40*time.Second)
	failed := func(ts time.Time) bool { return ts.After(o) && !ts.After(e) }
	// Both counters start high, so that rate() extrapolates them alike.
	writeHistory(t, base, from, to, time.Second, time.Hour,
		rwCounter(rwLabels("__name__", "e2e_calls_total", "job", "checkout", "code", "200"), from, 1e6, func(ts time.Time) float64 {
			if failed(ts) {
				return 0
			}
			return 10
		}),
		rwCounter(rwLabels("__name__", "e2e_calls_total", "job", "checkout", "code", "500"), from, 1e3, func(ts time.Time) float64 {
			if failed(ts) {
				return 10
			}
			return 0
		}),
	)

	page := func(m hookMsg, status string) (time.Time, bool) {
		for _, a := range m.Alerts {
			if a.Labels["alertname"] == "ErrorBudgetBurn" && a.Labels["slo"] == "checkout-page" &&
				a.Labels["service"] == "checkout" && a.Labels["severity"] == "critical" && a.Status == status {
				if status == "resolved" {
					return a.EndsAt, true
				}
				return a.StartsAt, true
			}
		}
		return time.Time{}, false
	}
	var fired, resolved time.Time
	deadline := time.Now().Add(90 * time.Second)
	for ; time.Now().Before(deadline) && resolved.IsZero(); time.Sleep(100 * time.Millisecond) {
		for _, m := range h.got() {
			if ts, ok := page(m, "firing"); ok && fired.IsZero() {
				fired = ts
			}
			if ts, ok := page(m, "resolved"); ok {
				resolved = ts
			}
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			_, notes := get(t, base+"/api/v1/alerts/notifications")
			t.Logf("webhook: %+v\nnotifications: %s", h.got(), notes)
		}
	})
	if fired.IsZero() || resolved.IsZero() {
		t.Fatalf("page fired at %v, resolved at %v: want both", fired, resolved)
	}
	t.Logf("outage at O=%s; page fired at O+%s (Workbook: 8.64s, 9s in whole samples), resolved at E+%s (8.56s, 8s)",
		o.Format(time.TimeOnly), fired.Sub(o), resolved.Sub(e))

	// The evaluations the rule manager made are the samples its recording rules wrote.
	fired, resolved = fired.Truncate(time.Millisecond), resolved.Truncate(time.Millisecond) // samples hold milliseconds
	evals := sampleTimes(t, base, `slo:sli_error:ratio_rate10s{slo="checkout-page"}`, o, resolved)
	firstAfter := func(ts time.Time) time.Time {
		for _, ev := range evals {
			if !ev.Before(ts) {
				return ev
			}
		}
		return time.Time{}
	}
	if fired.Before(o.Add(8640 * time.Millisecond)) {
		t.Errorf("page fired %s after the outage began, before the Workbook's 8.64s", fired.Sub(o))
	}
	if want := firstAfter(o.Add(9 * time.Second)); !fired.Equal(want) {
		t.Errorf("page fired at the evaluation of %s, want the first one at or after O+9s, %s (evaluations: %v)",
			fired.Format(time.StampMilli), want.Format(time.StampMilli), evals)
	}
	if want := firstAfter(e.Add(8 * time.Second)); !resolved.Equal(want) {
		t.Errorf("page resolved at the evaluation of %s, want the first one at or after E+8s, %s", resolved.Format(time.StampMilli), want.Format(time.StampMilli))
	}
	for _, m := range h.got() {
		for _, a := range m.Alerts {
			if a.Labels["alertname"] != "ErrorBudgetBurn" {
				t.Errorf("unexpected alert %v", a.Labels)
			}
		}
	}
}

// TestSLOFromSpanMetricsMatchesOTLP: a service named alone gets availability and latency
// SLOs from its span metrics, and their error ratios are those of the server spans sent with
// the OpenTelemetry SDK's OTLP exporter (its client spans, which fail more, do not count).
//
// The same batch is sent twice, a flush apart: the span-metrics counters start at the first
// batch's counts, and with every counter at the same multiple rate() extrapolates them alike,
// so the ratios are exact.
func TestSLOFromSpanMetricsMatchesOTLP(t *testing.T) {
	t.Parallel()
	base, a, _ := sloApp(t, map[string]string{"slos.yml": "slos:\n  - {name: checkout, service: checkout, objective: 99.9}\n"},
		"slo:\n  files: [slos.yml]\nalerting:\n  evaluation_interval: 1s\ntraces:\n  span_metrics:\n    flush_interval: 1s\n")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithInsecure(), otlptracegrpc.WithEndpoint(a.otlp.GRPCAddr().String()))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName("checkout"))))
	defer tp.Shutdown(context.Background())
	tracer := tp.Tracer("e2e")
	const servers, failed, slow, clients = 200, 10, 6, 40 // 5% errors, 3% slower than 300 ms
	batch := func() {
		start := time.Now().Add(-5 * time.Second)
		for i := range servers {
			d := 20 * time.Millisecond
			if i >= failed && i < failed+slow {
				d = 900 * time.Millisecond
			}
			_, s := tracer.Start(ctx, "POST /checkout", trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(start))
			if i < failed {
				s.SetStatus(codes.Error, "card declined")
			}
			s.End(trace.WithTimestamp(start.Add(d)))
		}
		for i := range clients {
			_, s := tracer.Start(ctx, "GET /inventory", trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(start))
			if i%2 == 0 {
				s.SetStatus(codes.Error, "timeout")
			}
			s.End(trace.WithTimestamp(start.Add(time.Millisecond)))
		}
		if err := tp.ForceFlush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	calls := func() string {
		return promQuery(t, base, `sum(traces_span_metrics_calls_total{service_name="checkout"})`)["{}"]
	}
	batch()
	eventually(t, "the first batch in span metrics", func() bool { return calls() == strconv.Itoa(servers+clients) })
	batch()
	eventually(t, "the second batch in span metrics", func() bool { return calls() == strconv.Itoa(2*(servers+clients)) })
	// A flush after the second batch is in every series; then the 5m ratios are recorded.
	eventually(t, "the 5m error ratio recorded", func() bool {
		v := promQuery(t, base, `slo:sli_error:ratio_rate5m{slo="checkout.availability"}`)
		f, err := strconv.ParseFloat(v[`{__name__="slo:sli_error:ratio_rate5m", service="checkout", slo="checkout.availability"}`], 64)
		return len(v) == 1 && err == nil && math.Abs(f-float64(failed)/servers) < 1e-9
	})

	avail := getSLO(t, base, "checkout.availability", time.Time{})
	wantNear(t, "availability SLI", avail.SLI, 1-float64(failed)/servers, 1e-9)
	wantNear(t, "availability budget remaining", avail.BudgetRemaining, 1-(float64(failed)/servers)/0.001, 1e-6)
	wantNear(t, "availability 5m burn rate", avail.BurnRates["5m"], (float64(failed)/servers)/0.001, 1e-6)
	lat := getSLO(t, base, "checkout.latency", time.Time{})
	wantNear(t, "latency SLI", lat.SLI, 1-float64(slow)/servers, 1e-9)
	wantNear(t, "latency budget remaining", lat.BudgetRemaining, 1-(float64(slow)/servers)/0.01, 1e-6)
}

// TestGoldenSignalsThroughIngest: each default golden-signal alert fires on its symptom sent
// through real ingest, and healthy traffic raises nothing. Slow and failing requests are
// spans sent with the OpenTelemetry SDK (their span metrics are the source); the traffic drop
// needs an hour of history, written as span-metrics series with Prometheus's remote-write
// client; saturation comes from a configured source, a gauge written the same way. The
// `for` durations are overridden down to 2s through the config file.
func TestGoldenSignalsThroughIngest(t *testing.T) {
	t.Parallel()
	h := newHook(t)
	config := `alerting:
  evaluation_interval: 1s
  config_file: alertmanager.yml
traces:
  span_metrics:
    flush_interval: 1s
metrics:
  out_of_order_window: 3h
slo:
  golden_signals:
    latency: {for: 2s}
    traffic: {for: 2s}
    errors: {for: 2s}
    saturation: {for: 2s, query: 'max by (service_name) (e2e_cpu_utilization)'}
`
	base, a, dir := sloApp(t, map[string]string{"alertmanager.yml": routeTo(h)}, config)

	// Traffic: "steady" keeps 10 requests a second, "dropping" falls from 10 to 2 for the
	// last 10 minutes. Saturation: "hot" at 95%, "steady" at 50%.
	now := time.Now().UTC().Truncate(time.Second)
	from, to := now.Add(-80*time.Minute), now.Add(2*time.Minute)
	calls := func(svc string, perStep func(time.Time) float64) rwSeries {
		return rwCounter(rwLabels("__name__", "traces_span_metrics_calls_total", "service_name", svc, "span_name", "GET /",
			"span_kind", "SPAN_KIND_SERVER", "status_code", "STATUS_CODE_UNSET"), from, 1e4, perStep)
	}
	gauge := func(svc string, v float64) rwSeries {
		return rwSeries{labels: rwLabels("__name__", "e2e_cpu_utilization", "service_name", svc), value: func(time.Time) float64 { return v }}
	}
	writeHistory(t, base, from, to, 15*time.Second, 20*time.Minute,
		calls("steady", func(time.Time) float64 { return 150 }),
		calls("dropping", func(ts time.Time) float64 {
			if ts.After(now.Add(-10 * time.Minute)) {
				return 30
			}
			return 150
		}),
		gauge("hot", 0.95), gauge("steady", 0.5),
	)

	// Spans: "slow" answers in 2 s, "failing" fails 30% of its requests, "cart" is healthy.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	providers := map[string]*sdktrace.TracerProvider{}
	for _, svc := range []string{"slow", "failing", "cart"} {
		exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithInsecure(), otlptracegrpc.WithEndpoint(a.otlp.GRPCAddr().String()))
		if err != nil {
			t.Fatal(err)
		}
		providers[svc] = sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName(svc))))
		defer providers[svc].Shutdown(context.Background())
	}
	send := func() {
		start := time.Now().Add(-3 * time.Second)
		for svc, tp := range providers {
			for i := range 50 {
				d := 30 * time.Millisecond
				if svc == "slow" {
					d = 2 * time.Second
				}
				_, s := tp.Tracer("e2e").Start(ctx, "GET /", trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(start))
				if svc == "failing" && i%10 < 3 {
					s.SetStatus(codes.Error, "boom")
				}
				s.End(trace.WithTimestamp(start.Add(d)))
			}
			if err := tp.ForceFlush(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Counters need two flushes to have a rate: send, wait for a flush, send again.
	send()
	eventually(t, "spans in span metrics", func() bool {
		return promQuery(t, base, `sum(traces_span_metrics_calls_total{service_name=~"slow|failing|cart"})`)["{}"] == "150"
	})
	send()

	want := map[string]bool{
		"GoldenSignalLatency/slow/high":           true,
		"GoldenSignalErrors/failing/high":         true,
		"GoldenSignalTrafficDrop/dropping/medium": true,
		"GoldenSignalSaturation/hot/medium":       true,
	}
	firing := map[string]bool{}
	deadline := time.Now().Add(60 * time.Second)
	for ; time.Now().Before(deadline) && len(firing) < len(want); time.Sleep(200 * time.Millisecond) {
		for _, m := range h.got() {
			for _, al := range m.Alerts {
				if al.Status == "firing" {
					firing[al.Labels["alertname"]+"/"+al.Labels["service"]+"/"+al.Labels["severity"]] = true
				}
			}
		}
	}
	for k := range want {
		if !firing[k] {
			t.Errorf("%s did not reach the webhook", k)
		}
	}
	// Healthy services never had an alert, not even pending: ALERTS holds every evaluation.
	quiet := promQuery(t, base, `count by (alertname, service) (count_over_time(ALERTS{service=~"cart|steady"}[10m]))`)
	for k := range firing {
		if !want[k] {
			t.Errorf("%s fired on healthy traffic", k)
		}
	}
	if len(quiet) > 0 {
		t.Errorf("healthy services had alerts: %v", quiet)
	}
	var got []string
	for k := range firing {
		got = append(got, k)
	}
	sort.Strings(got)
	t.Logf("fired: %s", strings.Join(got, ", "))

	// A reload that tolerates 50% errors from "failing" (a per-service override in the config
	// file) takes its error alert off; the others keep firing.
	configIn(t, dir, config+"    services: [{name: failing, errors: {threshold: 0.5}}]\n") // rewrites vigil.yml
	code, body := post(t, base+"/-/reload", "text/plain", nil)
	if code != http.StatusOK {
		t.Fatalf("POST /-/reload: %d %s", code, body)
	}
	if _, rules := get(t, base+"/api/v1/rules"); !strings.Contains(rules, `service_name=\"failing\"`) {
		t.Errorf("/api/v1/rules after the reload has no rule of its own for failing:\n%s", rules)
	}
	activeErrors := func() (failing, others bool) {
		_, alerts := get(t, base+"/api/v1/alerts")
		var r struct {
			Data struct {
				Alerts []struct{ Labels map[string]string }
			}
		}
		if err := json.Unmarshal([]byte(alerts), &r); err != nil {
			t.Fatalf("/api/v1/alerts: %v %s", err, alerts)
		}
		for _, al := range r.Data.Alerts {
			switch {
			case al.Labels["alertname"] == "GoldenSignalErrors" && al.Labels["service"] == "failing":
				failing = true
			case al.Labels["alertname"] == "GoldenSignalLatency" && al.Labels["service"] == "slow":
				others = true
			}
		}
		return failing, others
	}
	eventually(t, "the error alert of failing gone after the reload", func() bool { f, _ := activeErrors(); return !f })
	if _, others := activeErrors(); !others {
		t.Error("the latency alert of slow stopped after a reload that did not touch it")
	}
}
