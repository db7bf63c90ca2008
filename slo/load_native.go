package slo

import (
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

// Vigil's native form:
//
//	slos:
//	  - name: checkout-availability
//	    service: checkout
//	    objective: 99.9            # percent
//	    window: 30d                # rolling; or calendar: day | week | month
//	    budgeting: occurrences     # or timeslices, with timeslice: {window: 1m, target: 95}
//	    sli:
//	      availability:            # or errors:
//	        errors: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
//	        total:  sum(rate(http_requests_total[{{.window}}]))
//	      # latency: {metric: http_request_duration_seconds, threshold: 0.3, matchers: '{job="x"}', native: false}
//	      # saturation: {query: 'max(cpu_utilization{job="x"})', limit: 0.8}
//	    alerts:                    # optional; replaces the Workbook defaults
//	      burn_rates: [{long: 1h, short: 5m, factor: 14.4, severity: critical}]
//	      # disabled: true
//	    labels: {team: payments}
//	  - name: checkout             # no sli: derived from span metrics, as
//	    service: checkout          # checkout.availability and checkout.latency
//	    objective: 99.9
//	    span_metrics: {latency_threshold: 300ms, latency_objective: 99}   # the defaults
type nativeFile struct {
	SLOs []nativeSpec `yaml:"slos"`
}

type nativeSpec struct {
	Name        string             `yaml:"name"`
	Service     string             `yaml:"service"`
	Description string             `yaml:"description"`
	Objective   *float64           `yaml:"objective"`
	Window      string             `yaml:"window"`
	Calendar    string             `yaml:"calendar"`
	Budgeting   string             `yaml:"budgeting"`
	Timeslice   *nativeTimeslice   `yaml:"timeslice"`
	SLI         *nativeSLI         `yaml:"sli"`
	SpanMetrics *nativeSpanMetrics `yaml:"span_metrics"`
	Alerts      *nativeAlerts      `yaml:"alerts"`
	Labels      map[string]string  `yaml:"labels"`
}

type nativeTimeslice struct {
	Window string  `yaml:"window"`
	Target float64 `yaml:"target"` // percent
}

type nativeSLI struct {
	Availability *nativeEvents     `yaml:"availability"`
	Errors       *nativeEvents     `yaml:"errors"`
	Latency      *nativeLatency    `yaml:"latency"`
	Saturation   *nativeSaturation `yaml:"saturation"`
}

type nativeEvents struct {
	Errors string `yaml:"errors"`
	Total  string `yaml:"total"`
}

type nativeLatency struct {
	Metric    string  `yaml:"metric"`
	Threshold float64 `yaml:"threshold"`
	Matchers  string  `yaml:"matchers"`
	Native    bool    `yaml:"native"`
}

type nativeSaturation struct {
	Query string  `yaml:"query"`
	Limit float64 `yaml:"limit"`
}

type nativeSpanMetrics struct {
	LatencyThreshold string   `yaml:"latency_threshold"`
	LatencyObjective *float64 `yaml:"latency_objective"`
}

type nativeAlerts struct {
	Disabled  bool         `yaml:"disabled"`
	BurnRates []nativeBurn `yaml:"burn_rates"`
}

type nativeBurn struct {
	Long     string  `yaml:"long"`
	Short    string  `yaml:"short"`
	Factor   float64 `yaml:"factor"`
	Severity string  `yaml:"severity"`
}

// Span metrics, as traces/generator_span_metrics.go writes them.
const (
	spanCallsMetric    = "traces_span_metrics_calls_total"
	spanDurationBucket = "traces_span_metrics_duration_milliseconds_bucket"
	spanKindServer     = `span_kind="SPAN_KIND_SERVER"`
	spanStatusError    = `status_code="STATUS_CODE_ERROR"`
)

func (l *loader) buildNative(file string, root *yaml.Node) []*SLO {
	var f nativeFile
	if !l.decodeStrict(file, root, &f, "") {
		return nil
	}
	items := mappingValue(root, "slos")
	var out []*SLO
	for i, sp := range f.SLOs {
		n := items.Content[i]
		field := fmt.Sprintf("slos[%d]", i)
		if sp.Name != "" {
			field = fmt.Sprintf("slos[%d] (%s)", i, sp.Name)
		}
		out = append(out, l.nativeSLO(file, n, field, sp)...)
	}
	return out
}

// nativeSLO validates one spec; it returns nothing if anything is wrong.
func (l *loader) nativeSLO(file string, n *yaml.Node, field string, sp nativeSpec) []*SLO {
	before := len(l.errs)
	bad := func(keys []string, format string, args ...any) {
		l.fail(file, lineOf(n, keys...), joinField(field, strings.Join(keys, ".")), format, args...)
	}
	s := &SLO{Name: sp.Name, Service: sp.Service, Description: sp.Description, Labels: sp.Labels, File: file, Line: n.Line}
	l.checkIdentity(s, func(key, format string, args ...any) { bad([]string{key}, format, args...) })
	switch {
	case sp.Objective == nil:
		bad([]string{"objective"}, "missing (a percentage such as 99.9)")
	case !(*sp.Objective > 0 && *sp.Objective < 100):
		bad([]string{"objective"}, "%v is not a percentage in (0, 100)", *sp.Objective)
	default:
		s.Objective = round12(*sp.Objective / 100)
	}
	switch {
	case sp.Window != "" && sp.Calendar != "":
		bad([]string{"calendar"}, "set either window (rolling) or calendar, not both")
	case sp.Calendar != "":
		c := Calendar(sp.Calendar)
		if c != CalendarDay && c != CalendarWeek && c != CalendarMonth {
			bad([]string{"calendar"}, "%q is not day, week or month", sp.Calendar)
		}
		s.Window.Calendar = c
	default:
		s.Window.Rolling = 30 * 24 * time.Hour
		if sp.Window != "" {
			d, err := model.ParseDuration(sp.Window)
			if err != nil || d <= 0 {
				bad([]string{"window"}, "%q is not a positive duration such as 30d", sp.Window)
			}
			s.Window.Rolling = time.Duration(d)
		}
	}
	switch strings.ToLower(sp.Budgeting) {
	case "", "occurrences":
		if sp.Timeslice != nil {
			bad([]string{"timeslice"}, "only with budgeting: timeslices")
		}
	case "timeslices":
		ts := sp.Timeslice
		if ts == nil {
			bad([]string{"timeslice"}, "missing: timeslices budgeting needs timeslice: {window: 1m, target: 95}")
			break
		}
		s.Budgeting = Budgeting{Timeslices: true, SliceWindow: time.Minute}
		if ts.Window != "" {
			d, err := model.ParseDuration(ts.Window)
			if err != nil || d <= 0 {
				bad([]string{"timeslice", "window"}, "%q is not a positive duration", ts.Window)
			}
			s.Budgeting.SliceWindow = time.Duration(d)
		}
		if !(ts.Target > 0 && ts.Target <= 100) {
			bad([]string{"timeslice", "target"}, "%v is not a percentage in (0, 100]", ts.Target)
		}
		s.Budgeting.SliceTarget = round12(ts.Target / 100)
	default:
		bad([]string{"budgeting"}, "%q is not occurrences or timeslices", sp.Budgeting)
	}
	s.BurnAlerts = DefaultBurnAlerts()
	if a := sp.Alerts; a != nil {
		switch {
		case a.Disabled && len(a.BurnRates) > 0:
			bad([]string{"alerts", "disabled"}, "disabled alerts take no burn_rates")
		case a.Disabled:
			s.BurnAlerts = nil
		case len(a.BurnRates) > 0:
			s.BurnAlerts = l.burnAlerts(a.BurnRates, func(i int, key, format string, args ...any) {
				l.fail(file, lineOf(mappingValue(n, "alerts"), "burn_rates"), joinField(field, fmt.Sprintf("alerts.burn_rates[%d].%s", i, key)), format, args...)
			})
		}
	}

	sliBad := func(keys []string, format string, args ...any) {
		bad(append([]string{"sli"}, keys...), format, args...)
	}
	if sp.SLI == nil {
		if len(l.errs) > before {
			return nil
		}
		return l.spanSLOs(file, n, field, s, sp.SpanMetrics)
	}
	if sp.SpanMetrics != nil {
		bad([]string{"span_metrics"}, "only for SLOs derived from span metrics (without sli)")
	}
	var kinds []string
	sli := sp.SLI
	events, eventsKey := sli.Availability, "availability"
	if sli.Errors != nil {
		kinds = append(kinds, "errors")
		events, eventsKey = sli.Errors, "errors"
	}
	if sli.Availability != nil {
		kinds = append(kinds, "availability")
	}
	if sli.Latency != nil {
		kinds = append(kinds, "latency")
	}
	if sli.Saturation != nil {
		kinds = append(kinds, "saturation")
	}
	switch len(kinds) {
	case 0:
		sliBad(nil, "needs one of availability (or errors), latency, saturation")
	case 1:
	default:
		sliBad(nil, "has %s: choose one", strings.Join(kinds, " and "))
	}
	switch {
	case len(kinds) != 1:
	case events != nil:
		errs, err := l.counterRate(events.Errors)
		if err != nil {
			sliBad([]string{eventsKey, "errors"}, "%v", err)
		}
		total, err := l.counterRate(events.Total)
		if err != nil {
			sliBad([]string{eventsKey, "total"}, "%v", err)
		}
		s.SLI = SLI{Kind: SLIAvailability, ErrorRatio: fmt.Sprintf("((%s) or vector(0)) / (%s)", errs, total), Events: total}
	case sli.Latency != nil:
		lat := sli.Latency
		metric := strings.TrimSuffix(lat.Metric, "_bucket")
		if !lat.Native {
			metric += "_bucket"
		}
		sel := metric + lat.Matchers
		if lat.Metric == "" {
			sliBad([]string{"latency", "metric"}, "missing: the histogram's name")
		} else if e, err := l.parser.ParseExpr(sel); err != nil {
			sliBad([]string{"latency", "matchers"}, "%q is not a selector: %v", sel, err)
		} else if _, ok := e.(*parser.VectorSelector); !ok {
			sliBad([]string{"latency", "matchers"}, "%q is not a selector", sel)
		}
		if !(lat.Threshold > 0) {
			sliBad([]string{"latency", "threshold"}, "must be positive, in the histogram's unit")
		}
		by := " by (le)"
		if lat.Native {
			by = ""
		}
		s.SLI = SLI{Kind: SLILatency, ErrorRatio: fmt.Sprintf("1 - histogram_fraction(0, %s, sum%s (rate(%s[{{.window}}])))", formatFloat(lat.Threshold), by, sel),
			Events: histogramEvents(sel, lat.Native)}
	case sli.Saturation != nil:
		sat := sli.Saturation
		if err := l.checkQuery(sat.Query); err != nil {
			sliBad([]string{"saturation", "query"}, "%v", err)
		}
		s.SLI = SLI{Kind: SLISaturation, ErrorRatio: fmt.Sprintf("avg_over_time(((%s) > bool %s)[{{.window}}:1m])", sat.Query, formatFloat(sat.Limit))}
	}
	if len(l.errs) > before {
		return nil
	}
	if err := l.checkComposed(s); err != nil {
		sliBad(nil, "%v", err)
		return nil
	}
	return []*SLO{s}
}

// spanSLOs derives an availability and a latency SLO from the span metrics of s.Service's
// server spans.
func (l *loader) spanSLOs(file string, n *yaml.Node, field string, base *SLO, sm *nativeSpanMetrics) []*SLO {
	threshold := 300 * time.Millisecond
	latObjective := 0.99
	if sm != nil {
		if sm.LatencyThreshold != "" {
			d, err := model.ParseDuration(sm.LatencyThreshold)
			if err != nil || d <= 0 {
				l.fail(file, lineOf(n, "span_metrics", "latency_threshold"), field+".span_metrics.latency_threshold", "%q is not a positive duration such as 300ms", sm.LatencyThreshold)
				return nil
			}
			threshold = time.Duration(d)
		}
		if o := sm.LatencyObjective; o != nil {
			if !(*o > 0 && *o < 100) {
				l.fail(file, lineOf(n, "span_metrics", "latency_objective"), field+".span_metrics.latency_objective", "%v is not a percentage in (0, 100)", *o)
				return nil
			}
			latObjective = round12(*o / 100)
		}
	}
	svc := `service_name=` + quoteLabel(base.Service)
	avail := *base
	avail.Name = base.Name + ".availability"
	avail.SLI = SLI{Kind: SLISpanErrors, ErrorRatio: fmt.Sprintf(
		"(sum(rate(%s{%s, %s, %s}[{{.window}}])) or vector(0)) / sum(rate(%s{%s, %s}[{{.window}}]))",
		spanCallsMetric, svc, spanKindServer, spanStatusError, spanCallsMetric, svc, spanKindServer),
		Events: fmt.Sprintf("sum(rate(%s{%s, %s}[{{.window}}]))", spanCallsMetric, svc, spanKindServer)}
	lat := *base
	lat.Name = base.Name + ".latency"
	lat.Objective = latObjective
	ms := float64(threshold) / float64(time.Millisecond)
	lat.SLI = SLI{Kind: SLISpanLatency, ErrorRatio: fmt.Sprintf(
		"1 - histogram_fraction(0, %s, sum by (le) (rate(%s{%s, %s}[{{.window}}])))",
		formatFloat(ms), spanDurationBucket, svc, spanKindServer),
		Events: fmt.Sprintf(`sum(rate(%s{%s, %s, le="+Inf"}[{{.window}}]))`, spanDurationBucket, svc, spanKindServer)}
	return []*SLO{&avail, &lat}
}

// checkIdentity checks the fields every form shares.
func (l *loader) checkIdentity(s *SLO, bad func(key, format string, args ...any)) {
	switch {
	case s.Name == "":
		bad("name", "missing")
	case !validName(s.Name):
		bad("name", "%q: use letters, digits, '_', '.', ':' and '-'", s.Name)
	}
	if s.Service == "" {
		bad("service", "missing: the service the SLO belongs to")
	}
	for k := range s.Labels {
		if k == "slo" || k == "service" || k == "severity" || !model.LabelName(k).IsValidLegacy() {
			bad("labels", "%q cannot be used as a label name here", k)
		}
	}
}

func (l *loader) burnAlerts(in []nativeBurn, bad func(i int, key, format string, args ...any)) []BurnAlert {
	var out []BurnAlert
	for i, b := range in {
		a := BurnAlert{Factor: b.Factor, Severity: b.Severity}
		for _, w := range []struct {
			key string
			v   string
			d   *time.Duration
		}{{"long", b.Long, &a.Long}, {"short", b.Short, &a.Short}} {
			d, err := model.ParseDuration(w.v)
			if err != nil || d <= 0 {
				bad(i, w.key, "%q is not a positive duration", w.v)
			}
			*w.d = time.Duration(d)
		}
		if a.Short >= a.Long && a.Long > 0 {
			bad(i, "short", "must be shorter than long")
		}
		if !(a.Factor > 0) {
			bad(i, "factor", "must be positive")
		}
		if !severities[a.Severity] {
			bad(i, "severity", "%q is not critical, high, medium or low", a.Severity)
		}
		out = append(out, a)
	}
	return out
}

// checkComposed parses the error ratio of s over its longest window, as the rules will.
func (l *loader) checkComposed(s *SLO) error {
	for _, d := range []time.Duration{5 * time.Minute, s.windowRange()} {
		if _, err := l.parser.ParseExpr(s.ErrorRatioOver(d)); err != nil {
			return fmt.Errorf("error ratio %q: invalid PromQL: %w", s.ErrorRatioOver(d), err)
		}
	}
	return nil
}

// histogramEvents is the event rate of a histogram selector over {{.window}}: its count for a
// native histogram, its +Inf bucket (the denominator histogram_fraction uses) for a classic
// one. It returns "" for a selector that does not parse (Load has refused it already).
func histogramEvents(sel string, native bool) string {
	if native {
		return fmt.Sprintf("histogram_count(sum(rate(%s[{{.window}}])))", sel)
	}
	e, err := parser.NewParser(parser.Options{}).ParseExpr(sel)
	vs, ok := e.(*parser.VectorSelector)
	if err != nil || !ok {
		return ""
	}
	inf, err := labels.NewMatcher(labels.MatchEqual, labels.BucketLabel, "+Inf")
	if err != nil {
		return ""
	}
	vs.LabelMatchers = append(vs.LabelMatchers, inf)
	return fmt.Sprintf("sum(rate(%s[{{.window}}]))", vs)
}
