package main

import (
	"net"
	"net/url"
	"path/filepath"
	"strconv"
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
	// Cluster makes this Vigil one of a highly available pair (or more): same rules and
	// routing on each, silences, notification log and acknowledgements gossiped.
	Cluster AlertingClusterConfig `yaml:"cluster"`
}

// AlertingClusterConfig is Alertmanager's --cluster.* flags, as keys. An empty Listen is no
// cluster.
type AlertingClusterConfig struct {
	Listen           string         `yaml:"listen"`
	Advertise        string         `yaml:"advertise"`
	Peers            []string       `yaml:"peers"`
	PeerTimeout      model.Duration `yaml:"peer_timeout"`
	GossipInterval   model.Duration `yaml:"gossip_interval"`
	PushPullInterval model.Duration `yaml:"pushpull_interval"`
	SettleTimeout    model.Duration `yaml:"settle_timeout"`
	// TLSConfigFile is Alertmanager's --cluster.tls-config file, relative to the config file.
	TLSConfigFile string `yaml:"tls_config_file"`
	Label         string `yaml:"label"`
}

// options maps the keys onto the router's.
func (c AlertingClusterConfig) options() alerting.ClusterOptions {
	return alerting.ClusterOptions{
		ListenAddress:    c.Listen,
		AdvertiseAddress: c.Advertise,
		Peers:            c.Peers,
		PeerTimeout:      time.Duration(c.PeerTimeout),
		GossipInterval:   time.Duration(c.GossipInterval),
		PushPullInterval: time.Duration(c.PushPullInterval),
		SettleTimeout:    time.Duration(c.SettleTimeout),
		TLSConfigFile:    c.TLSConfigFile,
		Label:            c.Label,
	}
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
		Cluster: AlertingClusterConfig{ // Alertmanager's defaults
			PeerTimeout:      model.Duration(15 * time.Second),
			GossipInterval:   model.Duration(200 * time.Millisecond),
			PushPullInterval: model.Duration(time.Minute),
			SettleTimeout:    model.Duration(time.Minute),
		},
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
	a.Cluster.validate(bad)
}

func (c *AlertingClusterConfig) validate(bad func(key, format string, args ...any)) {
	// memberlist binds and advertises IP addresses; peers may be names (resolved at start).
	hostPort := func(key, v string, ip bool) {
		if host, port, err := net.SplitHostPort(v); err != nil {
			bad(key, "%q: %v", v, err)
		} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			bad(key, "%q: port %q is not a number", v, port)
		} else if ip && net.ParseIP(host) == nil {
			bad(key, "%q: %q is not an IP address", v, host)
		}
	}
	if c.Listen != "" {
		hostPort("alerting.cluster.listen", c.Listen, true)
	} else if len(c.Peers) > 0 {
		bad("alerting.cluster.peers", "needs alerting.cluster.listen (no cluster without it)")
	}
	if c.Advertise != "" {
		hostPort("alerting.cluster.advertise", c.Advertise, true)
	}
	for _, p := range c.Peers {
		hostPort("alerting.cluster.peers", p, false)
	}
	for _, d := range []struct {
		key string
		v   model.Duration
	}{
		{"alerting.cluster.peer_timeout", c.PeerTimeout},
		{"alerting.cluster.gossip_interval", c.GossipInterval},
		{"alerting.cluster.pushpull_interval", c.PushPullInterval},
		{"alerting.cluster.settle_timeout", c.SettleTimeout},
	} {
		if d.v <= 0 {
			bad(d.key, "must be positive")
		}
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
	if f := a.Cluster.TLSConfigFile; f != "" && !filepath.IsAbs(f) {
		a.Cluster.TLSConfigFile = filepath.Join(dir, f)
	}
}
