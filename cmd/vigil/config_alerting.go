package main

import (
	"net/url"
	"path/filepath"
	"time"

	"github.com/prometheus/common/model"
	"github.com/vigilhq/vigil/alerting"
)

// AlertingConfig is rule evaluation and the alert router.
type AlertingConfig struct {
	// RuleFiles are globs of Prometheus rule files, relative to the config file's directory.
	RuleFiles          []string          `yaml:"rule_files"`
	EvaluationInterval model.Duration    `yaml:"evaluation_interval"`
	ExternalURL        string            `yaml:"external_url"`
	ExternalLabels     map[string]string `yaml:"external_labels"`
	// ConfigFile is an Alertmanager configuration file; empty routes by severity with the
	// built-in default (see README).
	ConfigFile            string          `yaml:"config_file"`
	DataRetention         model.Duration  `yaml:"data_retention"`
	Slack                 SlackConfig     `yaml:"slack"`
	PagerDuty             PagerDutyConfig `yaml:"pagerduty"`
	BusinessHoursTimezone string          `yaml:"business_hours_timezone"`
	// EscalationPolicies, which Alertmanager lacks, kept here so that config_file stays a
	// file amtool and Alertmanager accept (a `vigil:` section in that file works too).
	EscalationPolicies []alerting.EscalationPolicy `yaml:"escalation_policies"`
}

// SlackConfig fills the default route's Slack receiver (severity medium).
type SlackConfig struct {
	WebhookURL string `yaml:"webhook_url"`
	Channel    string `yaml:"channel"`
}

// PagerDutyConfig fills the default route's PagerDuty receiver (critical, and high in
// business hours).
type PagerDutyConfig struct {
	RoutingKey string `yaml:"routing_key"`
	URL        string `yaml:"url"`
}

// DefaultAlertingConfig holds the documented defaults.
func DefaultAlertingConfig() AlertingConfig {
	return AlertingConfig{
		EvaluationInterval:    model.Duration(time.Minute),
		DataRetention:         model.Duration(120 * time.Hour),
		BusinessHoursTimezone: "UTC",
	}
}

func (a *AlertingConfig) validate(bad func(key, format string, args ...any)) {
	if a.EvaluationInterval <= 0 {
		bad("alerting.evaluation_interval", "must be positive")
	}
	if a.DataRetention <= 0 {
		bad("alerting.data_retention", "must be positive")
	}
	if a.ExternalURL != "" {
		if u, err := url.Parse(a.ExternalURL); err != nil || !u.IsAbs() {
			bad("alerting.external_url", "%q is not an absolute URL", a.ExternalURL)
		}
	}
	for i, g := range a.RuleFiles {
		if _, err := filepath.Match(g, ""); err != nil {
			bad("alerting.rule_files", "glob %d %q: %v", i, g, err)
		}
	}
	if _, err := time.LoadLocation(a.BusinessHoursTimezone); err != nil {
		bad("alerting.business_hours_timezone", "%v", err)
	}
}

// resolvePaths makes the file paths relative to the config file's directory, as Prometheus
// does for rule_files.
func (a *AlertingConfig) resolvePaths(dir string) {
	for i, g := range a.RuleFiles {
		if !filepath.IsAbs(g) {
			a.RuleFiles[i] = filepath.Join(dir, g)
		}
	}
	if a.ConfigFile != "" && !filepath.IsAbs(a.ConfigFile) {
		a.ConfigFile = filepath.Join(dir, a.ConfigFile)
	}
}
