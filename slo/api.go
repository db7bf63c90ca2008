package slo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// NewAPI serves GET /api/v1/slos (every SLO's status) and GET /api/v1/slos/{name} (one SLO,
// with its budget-remaining and burn-rate series over its window, for a burn-down chart),
// answering {"status":"success","data":...} as Prometheus's API does. Both take an optional
// `time` (RFC 3339 or Unix seconds; default now). Values come from the series the generated
// rules record (the window's error ratio from raw samples, straight from the SLI, until the
// recorded 5m series cover the window; see windowRatio), and the alert state from the ALERTS
// series of the burn-rate alerts. set is called once per request;
// it returns the SLOs in force.
func NewAPI(engine promql.QueryEngine, q storage.Queryable, set func() *Set) http.Handler {
	a := &api{engine: engine, q: q, set: set, now: time.Now}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/slos", a.list)
	mux.HandleFunc("GET /api/v1/slos/{name}", a.one)
	return mux
}

type api struct {
	engine promql.QueryEngine
	q      storage.Queryable
	set    func() *Set
	now    func() time.Time
}

// Status is one SLO as the API shows it. Ratios are fractions; a null value has no data.
type Status struct {
	Name            string              `json:"name"`
	Service         string              `json:"service"`
	Description     string              `json:"description,omitempty"`
	SLIKind         SLIKind             `json:"sli_kind"`
	Objective       float64             `json:"objective"`
	Window          string              `json:"window"`
	Budgeting       string              `json:"budgeting"`
	SLI             *float64            `json:"sli"`
	ErrorBudget     float64             `json:"error_budget"`
	BudgetRemaining *float64            `json:"budget_remaining"`
	BurnRates       map[string]*float64 `json:"burn_rates"`
	// WindowSource says where the window's error ratio came from: "recorded" (the series
	// the rules recorded, once they cover the window) or "raw" (the SLI over raw samples).
	WindowSource string        `json:"window_source"`
	AlertState   string        `json:"alert_state"` // firing, pending or inactive
	Alerts       []AlertStatus `json:"alerts"`
	Series       *BurnDown     `json:"series,omitempty"`
}

// AlertStatus is one burn-rate alert of an SLO.
type AlertStatus struct {
	Severity    string `json:"severity"`
	LongWindow  string `json:"long_window"`
	ShortWindow string `json:"short_window"`
	State       string `json:"state"`
}

// BurnDown is the series of one SLO over its window.
type BurnDown struct {
	Start           time.Time          `json:"start"`
	End             time.Time          `json:"end"`
	Step            string             `json:"step"`
	BudgetRemaining []Point            `json:"budget_remaining"`
	BurnRates       map[string][]Point `json:"burn_rates"`
}

// Point is [unix seconds, value] in JSON.
type Point struct {
	T time.Time
	V float64
}

func (p Point) MarshalJSON() ([]byte, error) {
	return json.Marshal([2]any{float64(p.T.UnixMilli()) / 1000, jsonFloat(p.V)})
}

func jsonFloat(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func (a *api) list(w http.ResponseWriter, r *http.Request) {
	t, err := parseTime(r.URL.Query().Get("time"), a.now())
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_data", err)
		return
	}
	slos := a.set().SLOs()
	out := make([]Status, 0, len(slos))
	ctx := r.Context()
	ratios, err := a.recordedRatios(ctx, "", t)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", err)
		return
	}
	alerts, err := a.alertStates(ctx, "", t)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", err)
		return
	}
	for _, s := range slos {
		st, err := a.status(ctx, s, t, ratios[s.Name], alerts[s.Name])
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, "unavailable", err)
			return
		}
		out = append(out, st)
	}
	writeData(w, out)
}

func (a *api) one(w http.ResponseWriter, r *http.Request) {
	t, err := parseTime(r.URL.Query().Get("time"), a.now())
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_data", err)
		return
	}
	name := r.PathValue("name")
	s, ok := a.set().Get(name)
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", fmt.Errorf("no SLO named %q", name))
		return
	}
	ctx := r.Context()
	ratios, err := a.recordedRatios(ctx, s.Name, t)
	if err == nil {
		var alerts map[string][]AlertStatus
		if alerts, err = a.alertStates(ctx, s.Name, t); err == nil {
			var st Status
			if st, err = a.status(ctx, s, t, ratios[s.Name], alerts[s.Name]); err == nil {
				if st.Series, err = a.burnDown(ctx, s, t); err == nil {
					writeData(w, st)
					return
				}
			}
		}
	}
	writeError(w, http.StatusServiceUnavailable, "unavailable", err)
}

func (a *api) status(ctx context.Context, s *SLO, t time.Time, ratios map[time.Duration]float64, alerts []AlertStatus) (Status, error) {
	budget := s.ErrorBudget()
	st := Status{
		Name: s.Name, Service: s.Service, Description: s.Description, SLIKind: s.SLI.Kind,
		Objective: s.Objective, Window: s.Window.String(), Budgeting: "occurrences",
		ErrorBudget: budget, BurnRates: map[string]*float64{}, AlertState: "inactive", Alerts: alerts,
	}
	if s.Budgeting.Timeslices {
		st.Budgeting = "timeslices"
	}
	windowRatio, src, err := a.windowRatio(ctx, s, t, ratios)
	if err != nil {
		return Status{}, err
	}
	st.WindowSource = src
	st.SLI = jsonFloat(1 - windowRatio)
	st.BudgetRemaining = jsonFloat(BudgetRemaining(windowRatio, budget))
	for _, d := range s.Windows() {
		v, ok := ratios[d]
		if !ok {
			v = math.NaN()
		}
		st.BurnRates[promDuration(d)] = jsonFloat(v / budget)
	}
	if st.Alerts == nil {
		st.Alerts = []AlertStatus{}
	}
	for _, al := range st.Alerts {
		if al.State == "firing" || (al.State == "pending" && st.AlertState == "inactive") {
			st.AlertState = al.State
		}
	}
	return st, nil
}

// minRecordedRange is the shortest elapsed calendar period read from the recorded 5m
// series; a shorter one is cheap to read raw, and the recorded 5m rates would reach back
// before the period's start.
const minRecordedRange = time.Hour

// windowRatio is the error ratio over the SLO's window at t, and where it came from. A
// rolling window's is its recorded series, and a calendar period's is computed from the
// recorded 5m series over the elapsed part of the period, once those series cover the range
// (see covered); before (the first window after an SLO is added, or after a gap in the
// recording longer than the tolerance at the window's start) it is the SLI over raw samples.
func (a *api) windowRatio(ctx context.Context, s *SLO, t time.Time, ratios map[time.Duration]float64) (float64, string, error) {
	rng := s.elapsed(t)
	switch {
	case s.Window.Calendar == "":
		v, ok := ratios[s.windowRange()]
		if !ok {
			break
		}
		if !s.windowFromRecorded() {
			return v, "recorded", nil // recorded from raw samples
		}
		ok, err := a.covered(ctx, s, t, rng)
		if err != nil {
			return 0, "", err
		}
		if ok {
			return v, "recorded", nil
		}
	case rng >= minRecordedRange && s.windowFromRecorded():
		ok, err := a.covered(ctx, s, t, rng)
		if err != nil {
			return 0, "", err
		}
		if ok {
			v, err := a.scalar(ctx, "max("+s.recordedRatioOver(rng)+")", t)
			return v, "recorded", err
		}
	}
	v, err := a.scalar(ctx, "max("+s.ErrorRatioOver(rng)+")", t)
	return v, "raw", err
}

// coverageTolerance is how late after the start of a range the recorded series may begin
// and still count as covering it: 0.1% of the range, at least 10 minutes (a few evaluation
// intervals and the 5m window) or a tenth of a short range. What is missing weighs at most
// that share of the range.
func coverageTolerance(rng time.Duration) time.Duration {
	return max(rng/1000, min(10*time.Minute, rng/10))
}

// covered reports whether the 5m series that s's window ratio is derived from reach back to
// the start of the range ending at t. It reads the first chunk of each series only.
func (a *api) covered(ctx context.Context, s *SLO, t time.Time, rng time.Duration) (bool, error) {
	metric := ErrorRatioMetric(baseWindow)
	if s.eventWeighted() {
		metric = ErrorsRateMetric
	}
	from := t.Add(-rng)
	q, err := a.q.Querier(from.UnixMilli(), t.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("read %s of %s: %w", metric, s.Name, err)
	}
	defer q.Close()
	// Equality matchers never fail to build.
	byName, _ := labels.NewMatcher(labels.MatchEqual, labels.MetricName, metric)
	bySLO, _ := labels.NewMatcher(labels.MatchEqual, "slo", s.Name)
	set := q.Select(ctx, false, nil, byName, bySLO)
	first := int64(math.MaxInt64)
	var it chunkenc.Iterator
	for set.Next() {
		it = set.At().Iterator(it)
		if it.Next() != chunkenc.ValNone {
			first = min(first, it.AtT())
		}
		if err := it.Err(); err != nil {
			return false, fmt.Errorf("read %s of %s: %w", metric, s.Name, err)
		}
	}
	if err := set.Err(); err != nil {
		return false, fmt.Errorf("read %s of %s: %w", metric, s.Name, err)
	}
	return first <= from.Add(coverageTolerance(rng)).UnixMilli(), nil
}

// BudgetRemaining is 1 - errorRatio/budget: 1 untouched, 0 spent, below 0 overspent.
func BudgetRemaining(errorRatio, budget float64) float64 { return 1 - errorRatio/budget }

// elapsed is the range the window's error ratio is computed over at t.
func (s *SLO) elapsed(t time.Time) time.Duration {
	if s.Window.Calendar == "" {
		return s.Window.Rolling
	}
	return max(t.Sub(s.Window.Calendar.Start(t)).Truncate(time.Minute), time.Minute)
}

var ratioNameRE = regexp.MustCompile(`^slo:sli_error:ratio_rate(.+)$`)

// recordedRatios returns the newest recorded error ratio of every SLO (or of the one named)
// by window; several series of one SLO and window count as their maximum.
func (a *api) recordedRatios(ctx context.Context, name string, t time.Time) (map[string]map[time.Duration]float64, error) {
	sel := `{__name__=~"slo:sli_error:ratio_rate.+"}`
	if name != "" {
		sel = `{__name__=~"slo:sli_error:ratio_rate.+", slo=` + quoteLabel(name) + `}`
	}
	vec, err := a.instant(ctx, sel, t)
	if err != nil {
		return nil, err
	}
	out := map[string]map[time.Duration]float64{}
	for _, smp := range vec {
		m := ratioNameRE.FindStringSubmatch(smp.Metric.Get(labels.MetricName))
		if m == nil {
			continue
		}
		d, err := parsePromDuration(m[1])
		if err != nil {
			continue
		}
		slo := smp.Metric.Get("slo")
		if out[slo] == nil {
			out[slo] = map[time.Duration]float64{}
		}
		if old, ok := out[slo][d]; !ok || smp.F > old || math.IsNaN(old) {
			out[slo][d] = smp.F
		}
	}
	return out, nil
}

// alertStates returns the burn-rate alerts of every SLO (or of the one named) from ALERTS.
func (a *api) alertStates(ctx context.Context, name string, t time.Time) (map[string][]AlertStatus, error) {
	sel := `ALERTS{alertname="` + BurnAlertName + `"}`
	if name != "" {
		sel = `ALERTS{alertname="` + BurnAlertName + `", slo=` + quoteLabel(name) + `}`
	}
	vec, err := a.instant(ctx, sel, t)
	if err != nil {
		return nil, err
	}
	out := map[string][]AlertStatus{}
	for _, smp := range vec {
		l := smp.Metric
		slo := l.Get("slo")
		out[slo] = append(out[slo], AlertStatus{
			Severity: l.Get("severity"), LongWindow: l.Get("long_window"), ShortWindow: l.Get("short_window"),
			State: l.Get("alertstate"),
		})
	}
	for _, as := range out {
		sort.Slice(as, func(i, j int) bool { return as[i].LongWindow+as[i].State < as[j].LongWindow+as[j].State })
	}
	return out, nil
}

// burnDownPoints bounds the series of one SLO.
const burnDownPoints = 120

func (a *api) burnDown(ctx context.Context, s *SLO, t time.Time) (*BurnDown, error) {
	span := s.elapsed(t)
	step := max((span / burnDownPoints).Truncate(time.Minute), time.Minute)
	bd := &BurnDown{Start: t.Add(-span), End: t, Step: promDuration(step), BurnRates: map[string][]Point{}}
	budget := s.ErrorBudget()
	if s.Window.Calendar != "" {
		// The range grows through the period: one instant query per point.
		start := s.Window.Calendar.Start(t)
		bd.Start = start
		// Recorded series that cover the period from its start serve every point of it.
		recorded := false
		if s.windowFromRecorded() && span >= minRecordedRange {
			ok, err := a.covered(ctx, s, t, span)
			if err != nil {
				return nil, err
			}
			recorded = ok
		}
		for ts := start.Add(step); !ts.After(t); ts = ts.Add(step) {
			expr := s.ErrorRatioOver(s.elapsed(ts))
			if recorded && s.elapsed(ts) >= minRecordedRange {
				expr = s.recordedRatioOver(s.elapsed(ts))
			}
			v, err := a.scalar(ctx, "max("+expr+")", ts)
			if err != nil {
				return nil, err
			}
			bd.BudgetRemaining = append(bd.BudgetRemaining, Point{T: ts, V: BudgetRemaining(v, budget)})
		}
	} else {
		m, err := a.series(ctx, "max("+ErrorRatioMetric(s.Window.Rolling)+"{slo="+quoteLabel(s.Name)+"})", bd.Start, t, step)
		if err != nil {
			return nil, err
		}
		for _, p := range m {
			bd.BudgetRemaining = append(bd.BudgetRemaining, Point{T: p.T, V: BudgetRemaining(p.V, budget)})
		}
	}
	var longs []time.Duration
	for _, al := range s.BurnAlerts {
		longs = append(longs, al.Long)
	}
	if len(longs) == 0 {
		longs = []time.Duration{time.Hour, 6 * time.Hour, 24 * time.Hour, 72 * time.Hour}
	}
	for _, d := range longs {
		key := promDuration(d)
		if _, done := bd.BurnRates[key]; done {
			continue
		}
		m, err := a.series(ctx, "max("+ErrorRatioMetric(d)+"{slo="+quoteLabel(s.Name)+"})", bd.Start, t, step)
		if err != nil {
			return nil, err
		}
		pts := make([]Point, 0, len(m))
		for _, p := range m {
			pts = append(pts, Point{T: p.T, V: p.V / budget})
		}
		bd.BurnRates[key] = pts
	}
	if bd.BudgetRemaining == nil {
		bd.BudgetRemaining = []Point{}
	}
	return bd, nil
}

func (a *api) instant(ctx context.Context, q string, t time.Time) (promql.Vector, error) {
	qry, err := a.engine.NewInstantQuery(ctx, a.q, nil, q, t)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", q, err)
	}
	defer qry.Close()
	res := qry.Exec(ctx)
	if res.Err != nil {
		return nil, fmt.Errorf("query %s: %w", q, res.Err)
	}
	vec, err := res.Vector()
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", q, err)
	}
	return vec, nil
}

// scalar runs a query of at most one series; no series is NaN.
func (a *api) scalar(ctx context.Context, q string, t time.Time) (float64, error) {
	vec, err := a.instant(ctx, q, t)
	if err != nil || len(vec) == 0 {
		return math.NaN(), err
	}
	return vec[0].F, nil
}

// series runs a range query of at most one series.
func (a *api) series(ctx context.Context, q string, start, end time.Time, step time.Duration) ([]Point, error) {
	qry, err := a.engine.NewRangeQuery(ctx, a.q, nil, q, start, end, step)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", q, err)
	}
	defer qry.Close()
	res := qry.Exec(ctx)
	if res.Err != nil {
		return nil, fmt.Errorf("query %s: %w", q, res.Err)
	}
	m, err := res.Matrix()
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", q, err)
	}
	if len(m) == 0 {
		return nil, nil
	}
	out := make([]Point, 0, len(m[0].Floats))
	for _, f := range m[0].Floats {
		out = append(out, Point{T: time.UnixMilli(f.T).UTC(), V: f.F})
	}
	return out, nil
}

func parseTime(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return now, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q is neither RFC 3339 nor Unix seconds", s)
	}
	return t, nil
}

func parsePromDuration(s string) (time.Duration, error) { return modelParseDuration(s) }

func writeData(w http.ResponseWriter, data any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": data})
}

func writeError(w http.ResponseWriter, code int, typ string, err error) {
	if errors.Is(err, context.Canceled) {
		typ = "canceled"
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": "error", "errorType": typ, "error": strings.TrimSpace(err.Error())})
}

func (p *Point) UnmarshalJSON(b []byte) error {
	var raw [2]*float64
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("point: %w", err)
	}
	if raw[0] == nil {
		return errors.New("point: no time")
	}
	p.T = time.UnixMilli(int64(math.Round(*raw[0] * 1000))).UTC()
	p.V = math.NaN()
	if raw[1] != nil {
		p.V = *raw[1]
	}
	return nil
}
