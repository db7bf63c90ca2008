package alerting

import (
	"bytes"
	"encoding/json"
	"fmt"
	"text/template"
)

// DefaultReceivers fills in the receivers of the default configuration (used when no
// alerting configuration file is given). A receiver left empty is disabled: alerts routed to
// it still show in Vigil's UI and API but notify no one.
type DefaultReceivers struct {
	SlackWebhookURL     string // Slack incoming webhook for `medium`
	SlackChannel        string // optional; the webhook's channel otherwise
	PagerDutyRoutingKey string // Events API v2 integration key for `critical` and `high`
	PagerDutyURL        string // optional; Alertmanager's default (events.pagerduty.com) otherwise
	BusinessHoursTZ     string // IANA location for `high`'s business hours; default "UTC"
}

// defaultConfigTemplate is Vigil's documented default routing. Severity is the `severity`
// label:
//
//	critical  pages PagerDuty at once, at any hour
//	high      pages PagerDuty, but only Monday-Friday 09:00-17:00 (active_time_intervals)
//	medium    goes to Slack
//	low       notifies no one; it is shown in Vigil's UI only
//
// A critical alert inhibits the lower severities of the same alertname and service.
var defaultConfigTemplate = template.Must(template.New("default").Funcs(template.FuncMap{
	"q": func(s string) string { b, _ := json.Marshal(s); return string(b) }, // JSON strings are YAML
}).Parse(`# Vigil's default alert routing. Copy it to a file and set alerting.config_file to change it.
global:
  resolve_timeout: 5m
route:
  receiver: ui-only
  group_by: [alertname, service]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  routes:
    - matchers: ['severity="critical"']
      receiver: pagerduty
      group_wait: 0s
    - matchers: ['severity="high"']
      receiver: pagerduty
      active_time_intervals: [business-hours]
    - matchers: ['severity="medium"']
      receiver: slack
    - matchers: ['severity="low"']
      receiver: ui-only
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity=~"high|medium|low"']
    equal: [alertname, service]
time_intervals:
  - name: business-hours
    time_intervals:
      - weekdays: ['monday:friday']
        times: [{start_time: '09:00', end_time: '17:00'}]
        location: {{ q .BusinessHoursTZ }}
receivers:
  - name: ui-only
  - name: pagerduty
{{- if .PagerDutyRoutingKey }}
    pagerduty_configs:
      - routing_key: {{ q .PagerDutyRoutingKey }}
{{- if .PagerDutyURL }}
        url: {{ q .PagerDutyURL }}
{{- end }}
        severity: '{{"{{"}} template "vigil.pagerduty.severity" . {{"}}"}}'
        links:
          - href: '{{"{{"}} template "__alertmanagerURL" . {{"}}"}}'
            text: Open in Vigil
{{- end }}
  - name: slack
{{- if .SlackWebhookURL }}
    slack_configs:
      - api_url: {{ q .SlackWebhookURL }}
        send_resolved: true
{{- if .SlackChannel }}
        channel: {{ q .SlackChannel }}
{{- end }}
{{- end }}
`))

// DefaultConfig renders the default configuration for d, in Alertmanager's format.
func DefaultConfig(d DefaultReceivers) ([]byte, error) {
	if d.BusinessHoursTZ == "" {
		d.BusinessHoursTZ = "UTC"
	}
	var b bytes.Buffer
	if err := defaultConfigTemplate.Execute(&b, d); err != nil {
		return nil, fmt.Errorf("render default alerting config: %w", err)
	}
	return b.Bytes(), nil
}
