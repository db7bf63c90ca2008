package alerting

import "testing"

// A PagerDuty receiver that sets no severity gets Vigil's mapping of the severity label; one
// that sets its own keeps it.
func TestPagerDutySeverityDefault(t *testing.T) {
	cfg, err := parseRouterConfig([]byte(`
route:
  receiver: pd
receivers:
  - name: pd
    pagerduty_configs:
      - routing_key: a
      - routing_key: b
        severity: warning
`), "test.yml")
	if err != nil {
		t.Fatal(err)
	}
	pds := cfg.am.Receivers[0].PagerdutyConfigs
	if got := pds[0].Severity; got != pagerDutySeverity {
		t.Errorf("unset severity became %q, want the vigil.pagerduty.severity template", got)
	}
	if got := pds[1].Severity; got != "warning" {
		t.Errorf("explicit severity became %q, want warning", got)
	}
}
