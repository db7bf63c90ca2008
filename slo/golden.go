package slo

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

// GoldenSignals configures the default symptom alerts on the four golden signals, for every
// service seen in span metrics (its SERVER spans). It maps one to one onto a config section:
//
//	golden_signals:
//	  disabled: false
//	  latency:    {threshold: 500, for: 5m, severity: high}    # p99, in milliseconds
//	  traffic:    {threshold: 0.5, for: 5m, severity: medium}  # fraction dropped vs 1h earlier
//	  errors:     {threshold: 0.01, for: 3m, severity: high}   # error ratio
//	  saturation: {threshold: 0.8, for: 10m, severity: medium, query: '...'}
//	  services:
//	    - name: checkout
//	      latency: {threshold: 300}
//	      saturation: {query: 'max(process_cpu_utilization{job="checkout"})'}
//	    - name: batch
//	      disabled: true
//
// A zero field inherits: a service's from the top-level signal, the top level's from
// DefaultGoldenSignals. Saturation has no span-metrics source, so it exists only where a
// query is given: at the top level it must return one series per service with a
// service_name label; for a service, one series. Latency, traffic and error rules are generic
// (`by (service_name)`, the services with an override or disabled excluded) plus one rule per
// overridden service.
type GoldenSignals struct {
	Disabled   bool             `yaml:"disabled"`
	Latency    Signal           `yaml:"latency"`
	Traffic    Signal           `yaml:"traffic"`
	Errors     Signal           `yaml:"errors"`
	Saturation Signal           `yaml:"saturation"`
	Services   []ServiceSignals `yaml:"services"`
}

// Signal is one golden-signal rule's settings.
type Signal struct {
	Disabled  bool           `yaml:"disabled"`
	Threshold float64        `yaml:"threshold"`
	For       model.Duration `yaml:"for"`
	Severity  string         `yaml:"severity"`
	// Query is saturation's source, a PromQL expression of a utilisation in [0, 1]; unused by
	// the other signals.
	Query string `yaml:"query"`
}

// ServiceSignals overrides the golden signals of one service.
type ServiceSignals struct {
	Name       string `yaml:"name"`
	Disabled   bool   `yaml:"disabled"`
	Latency    Signal `yaml:"latency"`
	Traffic    Signal `yaml:"traffic"`
	Errors     Signal `yaml:"errors"`
	Saturation Signal `yaml:"saturation"`
}

// DefaultGoldenSignals are the defaults: p99 latency above 500 ms for 5m, traffic
// down by more than half against the same window an hour earlier, error ratio above 1% for
// 3m, saturation above 80% for 10m.
func DefaultGoldenSignals() GoldenSignals {
	return GoldenSignals{
		Latency:    Signal{Threshold: 500, For: model.Duration(5 * time.Minute), Severity: "high"},
		Traffic:    Signal{Threshold: 0.5, For: model.Duration(5 * time.Minute), Severity: "medium"},
		Errors:     Signal{Threshold: 0.01, For: model.Duration(3 * time.Minute), Severity: "high"},
		Saturation: Signal{Threshold: 0.8, For: model.Duration(10 * time.Minute), Severity: "medium"},
	}
}

// Golden-signal alert names; each also carries `signal` and `service` labels.
const (
	AlertLatency    = "GoldenSignalLatency"
	AlertTraffic    = "GoldenSignalTrafficDrop"
	AlertErrors     = "GoldenSignalErrors"
	AlertSaturation = "GoldenSignalSaturation"
)

func (s Signal) inherit(from Signal) Signal {
	out := from
	out.Disabled = from.Disabled || s.Disabled
	if s.Threshold != 0 {
		out.Threshold = s.Threshold
	}
	if s.For != 0 {
		out.For = s.For
	}
	if s.Severity != "" {
		out.Severity = s.Severity
	}
	if s.Query != "" {
		out.Query = s.Query
	}
	return out
}

// Validate reports every invalid setting, with its key below golden_signals.
func (g GoldenSignals) Validate() error {
	_, err := g.withDefaults()
	return err
}

// withDefaults fills g from the defaults and validates it; services come out sorted.
func (g GoldenSignals) withDefaults() (GoldenSignals, error) {
	d := DefaultGoldenSignals()
	out := GoldenSignals{
		Disabled:   g.Disabled,
		Latency:    g.Latency.inherit(d.Latency),
		Traffic:    g.Traffic.inherit(d.Traffic),
		Errors:     g.Errors.inherit(d.Errors),
		Saturation: g.Saturation.inherit(d.Saturation),
	}
	p := parser.NewParser(parser.Options{})
	var errs []error
	check := func(key string, s Signal, isSaturation bool) {
		if !severities[s.Severity] {
			errs = append(errs, fmt.Errorf("%s.severity: %q is not critical, high, medium or low", key, s.Severity))
		}
		if s.Threshold < 0 || s.For < 0 {
			errs = append(errs, fmt.Errorf("%s: threshold and for must not be negative", key))
		}
		if key == "traffic" || strings.HasSuffix(key, ".traffic") {
			if s.Threshold >= 1 {
				errs = append(errs, fmt.Errorf("%s.threshold: %v is not a fraction of traffic lost in (0, 1)", key, s.Threshold))
			}
		}
		if s.Query != "" {
			if !isSaturation {
				errs = append(errs, fmt.Errorf("%s.query: only saturation takes a query", key))
			} else if _, err := p.ParseExpr(s.Query); err != nil {
				errs = append(errs, fmt.Errorf("%s.query: invalid PromQL: %w", key, err))
			}
		}
	}
	check("latency", out.Latency, false)
	check("traffic", out.Traffic, false)
	check("errors", out.Errors, false)
	check("saturation", out.Saturation, true)
	seen := map[string]bool{}
	for i, sv := range g.Services {
		key := fmt.Sprintf("services[%d]", i)
		if sv.Name == "" || seen[sv.Name] {
			errs = append(errs, fmt.Errorf("%s.name: %q is empty or repeated", key, sv.Name))
		}
		seen[sv.Name] = true
		// A service's saturation query is its own: the top-level one is by service_name.
		sat := sv.Saturation.inherit(out.Saturation)
		sat.Query = sv.Saturation.Query
		o := ServiceSignals{
			Name:       sv.Name,
			Disabled:   sv.Disabled,
			Latency:    sv.Latency.inherit(out.Latency),
			Traffic:    sv.Traffic.inherit(out.Traffic),
			Errors:     sv.Errors.inherit(out.Errors),
			Saturation: sat,
		}
		check(key+".latency", o.Latency, false)
		check(key+".traffic", o.Traffic, false)
		check(key+".errors", o.Errors, false)
		check(key+".saturation", o.Saturation, true)
		out.Services = append(out.Services, o)
	}
	sort.Slice(out.Services, func(i, j int) bool { return out.Services[i].Name < out.Services[j].Name })
	if len(errs) > 0 {
		return GoldenSignals{}, fmt.Errorf("golden_signals: %w", errors.Join(errs...))
	}
	return out, nil
}

// signalRule is one golden signal: how to write its expression for a selector of span
// metrics (the matchers inside the braces) and an aggregation.
type signalRule struct {
	alert, signal string
	pick          func(g GoldenSignals) Signal
	pickService   func(s ServiceSignals) Signal
	expr          func(matchers string, s Signal) string
	summary       string
}

var signalRules = []signalRule{
	{
		alert: AlertLatency, signal: "latency",
		pick:        func(g GoldenSignals) Signal { return g.Latency },
		pickService: func(s ServiceSignals) Signal { return s.Latency },
		expr: func(m string, s Signal) string {
			return fmt.Sprintf("histogram_quantile(0.99, sum by (service_name, le) (rate(%s{%s}[5m]))) > %s",
				spanDurationBucket, m, formatFloat(s.Threshold))
		},
		summary: `p99 latency of {{ $labels.service_name }} is {{ printf "%.0f" $value }} ms`,
	},
	{
		alert: AlertTraffic, signal: "traffic",
		pick:        func(g GoldenSignals) Signal { return g.Traffic },
		pickService: func(s ServiceSignals) Signal { return s.Traffic },
		expr: func(m string, s Signal) string {
			return exprLines(
				fmt.Sprintf("sum by (service_name) (rate(%s{%s}[10m]))", spanCallsMetric, m),
				fmt.Sprintf("< %s * sum by (service_name) (rate(%s{%s}[10m] offset 1h))", formatFloat(round12(1-s.Threshold)), spanCallsMetric, m))
		},
		summary: `traffic of {{ $labels.service_name }} fell to {{ printf "%.2f" $value }} requests/s, less than half of an hour ago`,
	},
	{
		alert: AlertErrors, signal: "errors",
		pick:        func(g GoldenSignals) Signal { return g.Errors },
		pickService: func(s ServiceSignals) Signal { return s.Errors },
		expr: func(m string, s Signal) string {
			return exprLines(
				fmt.Sprintf("sum by (service_name) (rate(%s{%s, %s}[5m]))", spanCallsMetric, m, spanStatusError),
				fmt.Sprintf("/ sum by (service_name) (rate(%s{%s}[5m]))", spanCallsMetric, m),
				"> "+formatFloat(s.Threshold))
		},
		summary: `{{ humanizePercentage $value }} of {{ $labels.service_name }}'s requests fail`,
	},
}

// group returns the golden-signals rule group, if any rule is enabled.
func (g GoldenSignals) group(interval time.Duration) (rulefmt.RuleGroup, bool) {
	out := rulefmt.RuleGroup{Name: "golden-signals", Interval: model.Duration(interval)}
	if g.Disabled {
		return out, false
	}
	var overridden []string // services with rules of their own (or none), out of the generic rules
	for _, sv := range g.Services {
		overridden = append(overridden, regexp.QuoteMeta(sv.Name))
	}
	generic := spanKindServer
	if len(overridden) > 0 {
		generic += ", service_name!~" + quoteLabel(strings.Join(overridden, "|"))
	}
	for _, r := range signalRules {
		if s := r.pick(g); !s.Disabled {
			out.Rules = append(out.Rules, signalAlert(r.alert, r.signal, r.expr(generic, s), s, r.summary, ""))
		}
		for _, sv := range g.Services {
			s := r.pickService(sv)
			if sv.Disabled || s.Disabled {
				continue
			}
			m := spanKindServer + ", service_name=" + quoteLabel(sv.Name)
			out.Rules = append(out.Rules, signalAlert(r.alert, r.signal, r.expr(m, s), s, r.summary, sv.Name))
		}
	}
	// Saturation: only where there is a source.
	sat := g.Saturation
	if !sat.Disabled && sat.Query != "" {
		expr := fmt.Sprintf("(%s) > %s", sat.Query, formatFloat(sat.Threshold))
		if len(g.Services) > 0 {
			// A label filter on an arbitrary expression: unless a vector of the names.
			var names []string
			for _, sv := range g.Services {
				names = append(names, fmt.Sprintf("label_replace(vector(1), \"service_name\", %s, \"\", \"\")", quoteLabel(sv.Name)))
			}
			expr = exprLines("("+expr+")", "unless on (service_name)", "("+strings.Join(names, "\nor ")+")")
		}
		out.Rules = append(out.Rules, signalAlert(AlertSaturation, "saturation", expr, sat,
			`saturation of {{ $labels.service_name }} is {{ humanizePercentage $value }}`, ""))
	}
	for _, sv := range g.Services {
		s := sv.Saturation
		if sv.Disabled || s.Disabled || s.Query == "" {
			continue
		}
		out.Rules = append(out.Rules, signalAlert(AlertSaturation, "saturation",
			fmt.Sprintf("(%s) > %s", s.Query, formatFloat(s.Threshold)), s,
			"saturation of "+sv.Name+" is {{ humanizePercentage $value }}", sv.Name))
	}
	return out, len(out.Rules) > 0
}

// signalAlert is one golden-signal alert; service is "" for the generic rule, whose service
// label comes from the span metrics' service_name.
func signalAlert(alert, signal, expr string, s Signal, summary, service string) rulefmt.Rule {
	ls := map[string]string{"severity": s.Severity, "signal": signal, "service": "{{ $labels.service_name }}"}
	if service != "" {
		ls["service"] = service
	}
	return rulefmt.Rule{
		Alert:       alert,
		Expr:        expr,
		For:         s.For,
		Labels:      ls,
		Annotations: map[string]string{"summary": summary},
	}
}
