package alerting

import (
	"context"
	"time"

	vmetrics "github.com/VictoriaMetrics/metrics"
	"github.com/prometheus/alertmanager/alert"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/util/strutil"
)

// LogsURLAnnotation is the annotation the alerts of log rules carry: a link to the records
// the rule counted (see logsLink). A rule's own annotation of that name wins.
const LogsURLAnnotation = "logs_url"

// notify is the rule manager's NotifyFunc. It does what Prometheus's rules.SendAlerts and its
// notifier do before posting to an Alertmanager: StartsAt is when the alert fired, EndsAt
// when it resolved or else its ValidUntil, GeneratorURL links to the expression; external
// labels are added where missing and alert relabeling applied. The alerts of log rules link to
// the logs instead.
func (r *Rules) notify(ctx context.Context, expr string, alerts ...*rules.Alert) {
	if len(alerts) == 0 {
		return
	}
	ext := r.opts.externalURL()
	generator := ext + strutil.TableLinkForExpression(expr)
	lc, isLog := r.logCountOf(expr)
	now := time.Now()
	if r.opts.Now != nil {
		now = r.opts.Now()
	}

	out := make([]*alert.Alert, 0, len(alerts))
	lb := labels.NewBuilder(labels.EmptyLabels())
	for _, a := range alerts {
		lb.Reset(a.Labels)
		for k, v := range r.opts.ExternalLabels {
			if a.Labels.Get(k) == "" {
				lb.Set(k, v)
			}
		}
		if !relabel.ProcessBuilder(lb, r.opts.AlertRelabelConfigs...) {
			continue
		}
		annotations := labelSet(a.Annotations)
		url := generator
		if isLog {
			url = logsLink(ext, lc, a)
			if _, ok := annotations[LogsURLAnnotation]; !ok {
				annotations[LogsURLAnnotation] = model.LabelValue(url)
			}
		}
		endsAt := a.ValidUntil
		if !a.ResolvedAt.IsZero() {
			endsAt = a.ResolvedAt
		}
		// Timeout is false: Prometheus always sends EndsAt, so Alertmanager never times it out.
		out = append(out, alert.New(model.Alert{
			Labels:       labelSet(lb.Labels()),
			Annotations:  annotations,
			StartsAt:     a.FiredAt,
			EndsAt:       endsAt,
			GeneratorURL: url,
		}, now, false))
	}
	if len(out) == 0 {
		return
	}
	r.metrics.alertsSent.Add(len(out))
	if err := r.deps.Alerts.PutAlerts(ctx, out...); err != nil {
		r.metrics.sendFailures.Add(len(out))
		r.log.Warn("sending alerts failed; they are sent again at the next resend", "alerts", len(out), "err", err)
	}
}

func labelSet(ls labels.Labels) model.LabelSet {
	s := make(model.LabelSet, ls.Len())
	ls.Range(func(l labels.Label) { s[model.LabelName(l.Name)] = model.LabelValue(l.Value) })
	return s
}

// rulesMetrics are Vigil's own rule metrics; the rule manager's are prometheus_rule_*.
type rulesMetrics struct {
	alertsSent       *vmetrics.Counter
	sendFailures     *vmetrics.Counter
	logQueries       *vmetrics.Counter
	logQueryFailures *vmetrics.Counter
	reloads          *vmetrics.Counter
	reloadFailures   *vmetrics.Counter
}

func newRulesMetrics(set *vmetrics.Set) rulesMetrics {
	return rulesMetrics{
		alertsSent:       set.GetOrCreateCounter("vigil_alerting_rule_alerts_sent_total"),
		sendFailures:     set.GetOrCreateCounter("vigil_alerting_rule_alerts_send_failures_total"),
		logQueries:       set.GetOrCreateCounter("vigil_alerting_log_rule_queries_total"),
		logQueryFailures: set.GetOrCreateCounter("vigil_alerting_log_rule_query_failures_total"),
		reloads:          set.GetOrCreateCounter(`vigil_alerting_rule_reloads_total{result="success"}`),
		reloadFailures:   set.GetOrCreateCounter(`vigil_alerting_rule_reloads_total{result="failure"}`),
	}
}
