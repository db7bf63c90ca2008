package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	v1 "github.com/prometheus/prometheus/web/api/v1"

	"github.com/vigilhq/vigil/alerting"
	"github.com/vigilhq/vigil/internal/lifecycle"
)

// alertingWiring is the alert router (Alertmanager's packages) and the rule evaluation that
// feeds it from the metrics store.
type alertingWiring struct {
	a       *app
	metrics *metricsWiring
	logs    *logsWiring
	// extraRuleFiles are rule files Vigil generates (SLOs, golden signals), loaded with the
	// user's.
	extraRuleFiles []string

	api lateHandler // Alertmanager API v2 and Vigil's group/ack endpoints

	router *alerting.Router
	rules  *alerting.Rules
}

// components returns the router, then the rules that send to it: stopping in reverse lets
// the rules' last resolved alerts reach the router.
func (w *alertingWiring) components() []lifecycle.Component {
	return []lifecycle.Component{
		{Name: "alert-router", Start: w.startRouter, Stop: func(ctx context.Context) error { return w.router.Stop(ctx) }},
		{Name: "rules", Start: w.startRules, Stop: func(ctx context.Context) error { return w.rules.Stop(ctx) }},
	}
}

// externalURL is where people reach this Vigil: the configured one, else the main listener.
func (w *alertingWiring) externalURL(cfg Config) string {
	if cfg.Alerting.ExternalURL != "" {
		return strings.TrimRight(cfg.Alerting.ExternalURL, "/")
	}
	return w.a.auth.scheme() + "://" + selfTarget(w.a.front.Addr())
}

func (w *alertingWiring) startRouter(ctx context.Context) error {
	a := w.a
	cfg := a.cfg.Alerting
	r, err := alerting.OpenRouter(a.dir.store("alerting"), alerting.RouterOptions{
		ExternalURL: w.externalURL(a.cfg),
		Retention:   time.Duration(cfg.DataRetention),
		Metrics:     a.reg.NewSet(),
		Cluster:     cfg.Cluster.options(),
		Defaults: alerting.DefaultReceivers{
			SlackWebhookURL:     cfg.Slack.WebhookURL,
			SlackChannel:        cfg.Slack.Channel,
			PagerDutyRoutingKey: cfg.PagerDuty.RoutingKey,
			PagerDutyURL:        cfg.PagerDuty.URL,
			BusinessHoursTZ:     cfg.BusinessHoursTimezone,
		},
	}, a.log.With("component", "alert-router"), a.reg.Prometheus())
	if err != nil {
		return fmt.Errorf("open alert router: %w", err)
	}
	if err := r.LoadConfigWith(cfg.ConfigFile, cfg.EscalationPolicies); err != nil {
		return errors.Join(err, r.Stop(ctx))
	}
	if err := r.Start(ctx); err != nil {
		return errors.Join(err, r.Stop(ctx))
	}
	w.router = r
	w.api.set(r.APIHandler())
	return nil
}

func (w *alertingWiring) startRules(ctx context.Context) error {
	a := w.a
	cfg := a.cfg.Alerting
	opts := alerting.DefaultRulesOptions()
	opts.RuleFiles = w.ruleFiles(a.cfg)
	opts.EvaluationInterval = time.Duration(cfg.EvaluationInterval)
	opts.ExternalLabels = cfg.ExternalLabels
	opts.ExternalURL = w.externalURL(a.cfg)
	opts.Metrics = a.reg.NewSet()
	db := w.metrics.db
	rules, err := alerting.NewRules(opts, alerting.RulesDeps{
		Queryable:  w.metrics.query, // the store merged with query.metrics_sources
		Appendable: db,
		Engine:     db.Engine(),
		Alerts:     w.router,
		Logs:       logCounter{w.logs},
	}, a.log.With("component", "rules"), a.reg.Prometheus())
	if err != nil {
		return fmt.Errorf("set up rule evaluation: %w", err)
	}
	if err := rules.Start(ctx); err != nil {
		return err
	}
	w.rules = rules
	return nil
}

func (w *alertingWiring) ruleFiles(cfg Config) []string {
	return append(append([]string(nil), cfg.Alerting.RuleFiles...), w.extraRuleFiles...)
}

// rulesRetriever feeds /api/v1/rules and /api/v1/alerts.
func (w *alertingWiring) rulesRetriever(context.Context) v1.RulesRetriever {
	return w.rules.RulesRetriever()
}

// reload applies new rule files and a new router configuration; either refusing leaves both
// as they were only for itself (the router keeps its old routes, the rules their old groups).
func (w *alertingWiring) reload(ctx context.Context, cfg Config) error {
	var errs []error
	if w.router != nil {
		if err := w.router.LoadConfigWith(cfg.Alerting.ConfigFile, cfg.Alerting.EscalationPolicies); err != nil {
			errs = append(errs, fmt.Errorf("alerting.config_file: %w", err))
		}
	}
	if w.rules != nil {
		if err := w.rules.Reload(ctx, w.ruleFiles(cfg)); err != nil {
			errs = append(errs, fmt.Errorf("alerting.rule_files: %w", err))
		}
	}
	return errors.Join(errs...)
}
