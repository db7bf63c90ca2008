package slo

import (
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// OpenSLO v1 (https://github.com/OpenSLO/OpenSLO, v1): kind SLO with an inline indicator or
// an indicatorRef to a kind SLI document of any loaded file; ratioMetric (good or bad, and
// total) and thresholdMetric, whose metricSource is `type: Prometheus` with `spec.query`;
// budgetingMethod Occurrences or Timeslices; one timeWindow, rolling (duration 30d, 4w) or
// calendar (1d, 1w, 1M, in UTC). Each objective becomes one SLO, named after the SLO, or
// <slo>.<objective name> when there are several. The other kinds (Service, DataSource,
// AlertPolicy, ...) are skipped.

type openSLODoc struct {
	APIVersion string      `yaml:"apiVersion"`
	Kind       string      `yaml:"kind"`
	Metadata   openSLOMeta `yaml:"metadata"`
	Spec       yaml.Node   `yaml:"spec"`
}

type openSLOMeta struct {
	Name        string            `yaml:"name"`
	DisplayName string            `yaml:"displayName"`
	Labels      map[string]any    `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

type openSLOSpec struct {
	Description     string              `yaml:"description"`
	Service         string              `yaml:"service"`
	Indicator       *openSLOSLIDoc      `yaml:"indicator"`
	IndicatorRef    string              `yaml:"indicatorRef"`
	TimeWindow      []openSLOTimeWindow `yaml:"timeWindow"`
	BudgetingMethod string              `yaml:"budgetingMethod"`
	Objectives      []openSLOObjective  `yaml:"objectives"`
	AlertPolicies   []any               `yaml:"alertPolicies"`
}

// openSLOSLIDoc is an inline indicator or a kind SLI document (whose apiVersion and kind are
// checked before).
type openSLOSLIDoc struct {
	APIVersion string      `yaml:"apiVersion"`
	Kind       string      `yaml:"kind"`
	Metadata   openSLOMeta `yaml:"metadata"`
	Spec       openSLOSLI  `yaml:"spec"`
	file       string
	line       int
}

type openSLOSLI struct {
	Description     string         `yaml:"description"`
	ThresholdMetric *openSLOMetric `yaml:"thresholdMetric"`
	RatioMetric     *openSLORatio  `yaml:"ratioMetric"`
}

type openSLORatio struct {
	Counter bool           `yaml:"counter"`
	Good    *openSLOMetric `yaml:"good"`
	Bad     *openSLOMetric `yaml:"bad"`
	Total   *openSLOMetric `yaml:"total"`
}

type openSLOMetric struct {
	MetricSource openSLOSource `yaml:"metricSource"`
}

type openSLOSource struct {
	MetricSourceRef string         `yaml:"metricSourceRef"`
	Type            string         `yaml:"type"`
	Spec            map[string]any `yaml:"spec"`
}

type openSLOTimeWindow struct {
	Duration  string `yaml:"duration"`
	IsRolling bool   `yaml:"isRolling"`
	Calendar  *struct {
		StartTime string `yaml:"startTime"`
		TimeZone  string `yaml:"timeZone"`
	} `yaml:"calendar"`
}

type openSLOObjective struct {
	DisplayName     string   `yaml:"displayName"`
	Name            string   `yaml:"name"`
	Op              string   `yaml:"op"`
	Value           *float64 `yaml:"value"`
	Target          *float64 `yaml:"target"`
	TargetPercent   *float64 `yaml:"targetPercent"`
	TimeSliceTarget *float64 `yaml:"timeSliceTarget"`
	TimeSliceWindow string   `yaml:"timeSliceWindow"`
}

func (l *loader) readOpenSLOSLI(file string, root *yaml.Node) {
	var d openSLOSLIDoc
	if !l.decodeStrict(file, root, &d, "") {
		return
	}
	if d.APIVersion != "openslo/v1" {
		l.fail(file, lineOf(root, "apiVersion"), "apiVersion", "%q is not supported (openslo/v1 is)", d.APIVersion)
		return
	}
	d.file, d.line = file, root.Line
	if _, dup := l.slis[d.Metadata.Name]; dup || d.Metadata.Name == "" {
		l.fail(file, lineOf(root, "metadata", "name"), "metadata.name", "SLI name %q is missing or defined twice", d.Metadata.Name)
		return
	}
	l.slis[d.Metadata.Name] = d
}

func (l *loader) buildOpenSLO(file string, root *yaml.Node) []*SLO {
	var d openSLODoc
	if !l.decodeStrict(file, root, &d, "") {
		return nil
	}
	if d.APIVersion != "openslo/v1" {
		l.fail(file, lineOf(root, "apiVersion"), "apiVersion", "%q is not supported (openslo/v1 is)", d.APIVersion)
		return nil
	}
	switch d.Kind {
	case "SLO":
	case "Service", "DataSource", "AlertPolicy", "AlertCondition", "AlertNotificationTarget":
		return nil
	default:
		l.fail(file, lineOf(root, "kind"), "kind", "%q is not an OpenSLO v1 kind", d.Kind)
		return nil
	}
	specNode := mappingValue(root, "spec")
	if specNode == nil {
		l.fail(file, root.Line, "spec", "missing")
		return nil
	}
	var sp openSLOSpec
	if !l.decodeStrict(file, specNode, &sp, "spec") {
		return nil
	}
	before := len(l.errs)
	bad := func(keys []string, format string, args ...any) {
		l.fail(file, lineOf(specNode, keys...), joinField("spec", strings.Join(keys, ".")), format, args...)
	}
	base := SLO{Name: d.Metadata.Name, Service: sp.Service, Description: sp.Description, File: file, Line: root.Line}
	for k, v := range d.Metadata.Labels {
		if s, ok := v.(string); ok {
			if base.Labels == nil {
				base.Labels = map[string]string{}
			}
			base.Labels[k] = s
		}
	}
	l.checkIdentity(&base, func(key, format string, args ...any) {
		if key == "name" {
			l.fail(file, lineOf(root, "metadata", "name"), "metadata.name", format, args...)
			return
		}
		bad([]string{key}, format, args...)
	})

	// The time window.
	if len(sp.TimeWindow) != 1 {
		bad([]string{"timeWindow"}, "needs exactly one window, has %d", len(sp.TimeWindow))
	} else {
		tw := sp.TimeWindow[0]
		if tw.IsRolling {
			dur, err := model.ParseDuration(tw.Duration)
			if err != nil || dur <= 0 {
				bad([]string{"timeWindow"}, "duration %q is not a positive duration such as 28d", tw.Duration)
			}
			base.Window.Rolling = time.Duration(dur)
		} else {
			switch tw.Duration {
			case "1d":
				base.Window.Calendar = CalendarDay
			case "1w":
				base.Window.Calendar = CalendarWeek
			case "1M":
				base.Window.Calendar = CalendarMonth
			default:
				bad([]string{"timeWindow"}, "calendar duration %q is not supported (1d, 1w, 1M are)", tw.Duration)
			}
			if tw.Calendar != nil && tw.Calendar.TimeZone != "" && tw.Calendar.TimeZone != "UTC" {
				bad([]string{"timeWindow"}, "calendar time zone %q is not supported (UTC is)", tw.Calendar.TimeZone)
			}
		}
	}

	// The indicator.
	var ind *openSLOSLI
	switch {
	case sp.Indicator != nil && sp.IndicatorRef != "":
		bad([]string{"indicatorRef"}, "set indicator or indicatorRef, not both")
	case sp.Indicator != nil:
		ind = &sp.Indicator.Spec
	case sp.IndicatorRef != "":
		ref, ok := l.slis[sp.IndicatorRef]
		if !ok {
			bad([]string{"indicatorRef"}, "no kind SLI named %q in the loaded files", sp.IndicatorRef)
		} else {
			ind = &ref.Spec
		}
	default:
		bad([]string{"indicator"}, "missing: an indicator or an indicatorRef")
	}
	if ind != nil && (ind.RatioMetric == nil) == (ind.ThresholdMetric == nil) {
		bad([]string{"indicator"}, "needs exactly one of ratioMetric and thresholdMetric")
		ind = nil
	}

	var out []*SLO
	if len(sp.Objectives) == 0 {
		bad([]string{"objectives"}, "missing")
	}
	objNodes := mappingValue(specNode, "objectives")
	for i, o := range sp.Objectives {
		s := base
		on := objNodes.Content[i]
		field := fmt.Sprintf("spec.objectives[%d]", i)
		obad := func(key, format string, args ...any) {
			l.fail(file, lineOf(on, key), field+"."+key, format, args...)
		}
		if len(sp.Objectives) > 1 {
			name := o.Name
			if name == "" {
				name = fmt.Sprint(i)
			}
			s.Name = base.Name + "." + name
		}
		switch {
		case o.Target != nil && o.TargetPercent != nil:
			obad("target", "set target or targetPercent, not both")
		case o.Target != nil && *o.Target > 0 && *o.Target < 1:
			s.Objective = *o.Target
		case o.TargetPercent != nil && *o.TargetPercent > 0 && *o.TargetPercent < 100:
			s.Objective = round12(*o.TargetPercent / 100)
		case o.Target != nil:
			obad("target", "%v is not a fraction in (0, 1)", *o.Target)
		case o.TargetPercent != nil:
			obad("targetPercent", "%v is not a percentage in (0, 100)", *o.TargetPercent)
		default:
			obad("target", "missing")
		}
		switch sp.BudgetingMethod {
		case "Occurrences":
		case "Timeslices":
			s.Budgeting = Budgeting{Timeslices: true}
			if o.TimeSliceTarget == nil || !(*o.TimeSliceTarget > 0 && *o.TimeSliceTarget <= 1) {
				obad("timeSliceTarget", "Timeslices budgeting needs a timeSliceTarget in (0, 1]")
			} else {
				s.Budgeting.SliceTarget = *o.TimeSliceTarget
			}
			dur, err := model.ParseDuration(o.TimeSliceWindow)
			if err != nil || dur <= 0 {
				obad("timeSliceWindow", "%q is not a positive duration such as 1m", o.TimeSliceWindow)
			}
			s.Budgeting.SliceWindow = time.Duration(dur)
		default:
			bad([]string{"budgetingMethod"}, "%q is not supported (Occurrences and Timeslices are)", sp.BudgetingMethod)
		}
		if ind != nil {
			sli, err := l.openSLOIndicator(ind, o)
			if err != nil {
				bad([]string{"indicator"}, "%v", err)
			}
			s.SLI = sli
		}
		s.BurnAlerts = DefaultBurnAlerts()
		out = append(out, &s)
	}
	if len(l.errs) > before {
		return nil
	}
	for _, s := range out {
		if err := l.checkComposed(s); err != nil {
			bad([]string{"indicator"}, "%v", err)
			return nil
		}
	}
	return out
}

func (l *loader) openSLOQuery(m *openSLOMetric, what string) (string, error) {
	if m == nil {
		return "", fmt.Errorf("%s: missing", what)
	}
	src := m.MetricSource
	if src.MetricSourceRef != "" {
		return "", fmt.Errorf("%s: metricSourceRef is not supported: give type Prometheus and spec.query", what)
	}
	if src.Type != "Prometheus" {
		return "", fmt.Errorf("%s: metricSource type %q is not supported (Prometheus is)", what, src.Type)
	}
	q, _ := src.Spec["query"].(string)
	if q == "" {
		return "", fmt.Errorf("%s: metricSource.spec.query is missing", what)
	}
	return q, nil
}

// openSLOIndicator builds the error ratio of an indicator for objective o.
func (l *loader) openSLOIndicator(ind *openSLOSLI, o openSLOObjective) (SLI, error) {
	if r := ind.RatioMetric; r != nil {
		if (r.Good == nil) == (r.Bad == nil) {
			return SLI{}, fmt.Errorf("ratioMetric needs exactly one of good and bad")
		}
		total, err := l.openSLOQuery(r.Total, "ratioMetric.total")
		if err != nil {
			return SLI{}, err
		}
		rate := l.counterRate
		if !r.Counter {
			// Gauges of event counts per instant: sum them over the window.
			rate = func(q string) (string, error) {
				if err := l.checkQuery(q); err != nil {
					return "", err
				}
				if windowPlaceholder.MatchString(q) {
					return q, nil
				}
				return fmt.Sprintf("sum(sum_over_time((%s)[{{.window}}:1m]))", q), nil
			}
		}
		totalRate, err := rate(total)
		if err != nil {
			return SLI{}, fmt.Errorf("ratioMetric.total: %w", err)
		}
		if r.Bad != nil {
			q, err := l.openSLOQuery(r.Bad, "ratioMetric.bad")
			if err != nil {
				return SLI{}, err
			}
			bad, err := rate(q)
			if err != nil {
				return SLI{}, fmt.Errorf("ratioMetric.bad: %w", err)
			}
			return SLI{Kind: SLIRatio, ErrorRatio: fmt.Sprintf("((%s) or vector(0)) / (%s)", bad, totalRate), Events: totalRate}, nil
		}
		q, err := l.openSLOQuery(r.Good, "ratioMetric.good")
		if err != nil {
			return SLI{}, err
		}
		good, err := rate(q)
		if err != nil {
			return SLI{}, fmt.Errorf("ratioMetric.good: %w", err)
		}
		return SLI{Kind: SLIRatio, ErrorRatio: fmt.Sprintf("1 - ((%s) or vector(0)) / (%s)", good, totalRate), Events: totalRate}, nil
	}
	q, err := l.openSLOQuery(ind.ThresholdMetric, "thresholdMetric")
	if err != nil {
		return SLI{}, err
	}
	if err := l.checkQuery(q); err != nil {
		return SLI{}, fmt.Errorf("thresholdMetric: %w", err)
	}
	if o.Value == nil {
		return SLI{}, fmt.Errorf("thresholdMetric needs the objective's op and value")
	}
	// The bad comparison is the negation of the objective's op.
	badOp, ok := map[string]string{"lte": ">", "lt": ">=", "gte": "<", "gt": "<="}[o.Op]
	if !ok {
		return SLI{}, fmt.Errorf("objective op %q is not lt, lte, gt or gte", o.Op)
	}
	return SLI{Kind: SLIThreshold, ErrorRatio: fmt.Sprintf("avg_over_time(((%s) %s bool %s)[{{.window}}:1m])", q, badOp, formatFloat(*o.Value))}, nil
}
