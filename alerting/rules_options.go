package alerting

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	vmetrics "github.com/VictoriaMetrics/metrics"
	"github.com/prometheus/alertmanager/alert"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/relabel"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
)

// RulesOptions configures rule evaluation. Start from DefaultRulesOptions; every default is
// Prometheus's own.
type RulesOptions struct {
	// RuleFiles are the globs of the rule files loaded by Start (Prometheus's rule_files).
	// Relative globs are relative to the working directory. A glob matching nothing is fine.
	RuleFiles []string
	// EvaluationInterval is the interval of groups that do not set their own (1m).
	EvaluationInterval time.Duration
	// QueryOffset is how far back in time rules evaluate, for groups that do not set their own
	// query_offset (0: rules see samples up to the evaluation time).
	QueryOffset time.Duration
	// OutageTolerance is the longest outage after which the `for` state of alerts is still
	// restored from the ALERTS_FOR_STATE series (1h).
	OutageTolerance time.Duration
	// ForGracePeriod is the least time an alert with a restored `for` state stays pending (10m).
	ForGracePeriod time.Duration
	// ResendDelay is how often a firing alert is sent again to the AlertSink (1m).
	ResendDelay time.Duration

	// ExternalLabels are added to every alert sent to the AlertSink that lacks the label, and
	// are $externalLabels in templates (Prometheus's global.external_labels).
	ExternalLabels map[string]string
	// ExternalURL is the URL users reach Vigil at, without a trailing slash: the base of
	// GeneratorURL and log links, and $externalURL in templates. Empty makes links relative.
	ExternalURL string
	// AlertRelabelConfigs relabel (or drop) alerts before they are sent, after external labels
	// are added (Prometheus's alerting.alert_relabel_configs).
	AlertRelabelConfigs []*relabel.Config

	// EnableExperimentalFunctions lets rule expressions use PromQL's experimental functions;
	// set it as the engine is set.
	EnableExperimentalFunctions bool

	// Metrics receives Vigil's own rule metrics (vigil_alerting_rule_*). nil keeps them private.
	Metrics *vmetrics.Set
	// Now is the clock stamped on alerts as UpdatedAt; nil means time.Now. Evaluation itself runs
	// on Prometheus's wall-clock schedule: tests shorten the group interval instead.
	Now func() time.Time
}

// DefaultRulesOptions returns Prometheus's defaults: 1m evaluation interval, 1h outage
// tolerance, 10m for-grace period, 1m resend delay, no query offset.
func DefaultRulesOptions() RulesOptions {
	return RulesOptions{
		EvaluationInterval: time.Minute,
		OutageTolerance:    time.Hour,
		ForGracePeriod:     10 * time.Minute,
		ResendDelay:        time.Minute,
	}
}

// Validate reports every option that cannot work.
func (o RulesOptions) Validate() error {
	var errs []error
	for name, d := range map[string]time.Duration{
		"evaluation interval": o.EvaluationInterval,
		"outage tolerance":    o.OutageTolerance,
		"for grace period":    o.ForGracePeriod,
		"resend delay":        o.ResendDelay,
	} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s %s: must be positive", name, d))
		}
	}
	if o.QueryOffset < 0 {
		errs = append(errs, fmt.Errorf("query offset %s: must not be negative", o.QueryOffset))
	}
	for k, v := range o.ExternalLabels {
		if !model.UTF8Validation.IsValidLabelName(k) || k == model.MetricNameLabel {
			errs = append(errs, fmt.Errorf("external label %q: invalid label name", k))
		}
		if !model.LabelValue(v).IsValid() || v == "" {
			errs = append(errs, fmt.Errorf("external label %q: invalid value %q", k, v))
		}
	}
	if o.ExternalURL != "" {
		u, err := url.Parse(o.ExternalURL)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("external URL: %w", err))
		case u.Scheme == "" || u.Host == "":
			errs = append(errs, fmt.Errorf("external URL %q: must be absolute (scheme://host[/path])", o.ExternalURL))
		}
	}
	return errors.Join(errs...)
}

// externalURL is ExternalURL as Prometheus uses it: without a trailing slash.
func (o RulesOptions) externalURL() string { return strings.TrimRight(o.ExternalURL, "/") }

// RulesDeps are what rule evaluation reads and writes. Queryable, Appendable, Engine and Alerts
// are required; Logs only if a rule file holds log rules.
type RulesDeps struct {
	// Queryable is read by rule expressions and by the restore of `for` state.
	Queryable storage.Queryable
	// Appendable receives the samples of recording rules and the ALERTS and
	// ALERTS_FOR_STATE series, as in Prometheus.
	Appendable storage.AppendableV2
	// Engine evaluates the PromQL of rules against Queryable.
	Engine promql.QueryEngine
	// Alerts receives every alert a rule sends.
	Alerts AlertSink
	// Logs counts log records for log rules (see the package doc). nil refuses rule files
	// holding log rules.
	Logs LogCounter
}

func (d RulesDeps) validate() error {
	var errs []error
	if d.Queryable == nil {
		errs = append(errs, errors.New("no Queryable"))
	}
	if d.Appendable == nil {
		errs = append(errs, errors.New("no AppendableV2"))
	}
	if d.Engine == nil {
		errs = append(errs, errors.New("no PromQL engine"))
	}
	if d.Alerts == nil {
		errs = append(errs, errors.New("no AlertSink"))
	}
	return errors.Join(errs...)
}

// AlertSink receives the alerts of every evaluation (firing, and resolved ones with EndsAt
// set), as Prometheus sends them to Alertmanager, built with alert.New (Alertmanager v0.35
// renamed its types package to alert): StartsAt is when the alert fired, EndsAt is
// when it resolved or, while it fires, a time after which it counts as resolved unless sent
// again (four resend delays or evaluation intervals ahead), GeneratorURL links back to the
// rule's expression. The same alert is sent again every ResendDelay while it fires.
// PutAlerts must not keep the slice (it may keep the alerts); it must be safe for concurrent
// use. An error is logged and counted; the alert is sent again at the next resend.
type AlertSink interface {
	PutAlerts(ctx context.Context, alerts ...*alert.Alert) error
}

// LogCounter counts log records for log rules. CountLogs returns the number of records
// matching query (Vigil's log query language) whose timestamp t satisfies start < t <= end, as a
// PromQL range selector would. Safe for concurrent use; the deadline comes from ctx.
type LogCounter interface {
	CountLogs(ctx context.Context, query string, start, end time.Time) (int64, error)
}

// LogQueryValidator is an optional capability of a LogCounter: ValidateLogQuery reports
// whether query parses, so a rule file with a broken log query is refused when it is loaded,
// with its line, instead of failing at every evaluation.
type LogQueryValidator interface {
	ValidateLogQuery(query string) error
}
