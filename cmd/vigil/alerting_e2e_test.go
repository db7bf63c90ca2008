package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"
)

// receiver is a loopback HTTP server standing in for Slack or PagerDuty: it records bodies.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies []string
}

// newReceiver answers as the real service does: Slack's webhooks 200 "ok", PagerDuty's
// Events API 202 with a JSON status.
func newReceiver(t *testing.T, code int, answer string) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, string(b))
		r.mu.Unlock()
		w.WriteHeader(code)
		_, _ = w.Write([]byte(answer))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bodies...)
}

// TestAlertingEndToEnd: a metric written by remote write crosses a threshold; the rule is
// pending for its `for:`, then fires; PagerDuty gets one trigger for the group, Slack one
// message naming both alerts, the warning under the critical is inhibited, and when the value
// drops PagerDuty gets the resolve with the same dedup_key.
func TestAlertingEndToEnd(t *testing.T) {
	slack := newReceiver(t, http.StatusOK, "ok")
	pd := newReceiver(t, http.StatusAccepted, `{"status":"success","message":"Event processed","dedup_key":"x"}`)
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("rules.yml", `
groups:
  - name: e2e
    interval: 200ms
    rules:
      - alert: HighErrors
        expr: e2e_errors > 5
        for: 3s
        labels: {severity: critical}
        annotations: {summary: "{{ $labels.instance }} has {{ $value }} errors"}
      - alert: SomeErrors
        expr: e2e_errors > 3
        for: 4s
        labels: {severity: warning}
`)
	write("alertmanager.yml", fmt.Sprintf(`
route:
  receiver: slack
  group_by: [alertname]
  group_wait: 100ms
  group_interval: 500ms
  repeat_interval: 1h
  routes:
    - matchers: ['severity="critical"']
      receiver: pagerduty
      continue: true
    - receiver: slack
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [instance]
receivers:
  - name: slack
    slack_configs:
      - api_url: %s
        channel: '#alerts'
  - name: pagerduty
    pagerduty_configs:
      - routing_key: 0123456789abcdef0123456789abcdef
        url: %s/v2/enqueue
        # No severity: Vigil maps the severity label onto PagerDuty's four by default.
`, slack.srv.URL, pd.srv.URL))
	c, cfg := configIn(t, dir, "alerting:\n  rule_files: [rules.yml]\n  config_file: alertmanager.yml\n")
	a := newTestApp(t, c, cfg)
	stop := startApp(t, a)
	base := waitAddr(t, a)
	eventually(t, "ready", func() bool { code, _ := get(t, base+"/readyz"); return code == 200 })

	errorsAt := func(v float64) {
		t.Helper()
		now := time.Now().UnixMilli()
		var series []prompb.TimeSeries
		for _, inst := range []string{"a", "b"} {
			series = append(series, prompb.TimeSeries{
				Labels:  []prompb.Label{{Name: "__name__", Value: "e2e_errors"}, {Name: "instance", Value: inst}},
				Samples: []prompb.Sample{{Value: v, Timestamp: now}},
			})
		}
		if err := remoteWriteV1(t, base, series...); err != nil {
			t.Fatal(err)
		}
	}
	errorsAt(10)

	// Pending first: Prometheus's API shows it, nothing is paged yet (for: 3s leaves a loaded
	// machine time to look).
	eventually(t, "pending alert", func() bool {
		_, body := get(t, base+"/api/v1/alerts")
		return strings.Contains(body, `"state":"pending"`) && strings.Contains(body, "HighErrors")
	})
	if n := len(pd.got()); n != 0 {
		t.Fatalf("PagerDuty paged %d times while the alert was pending", n)
	}

	eventually(t, "PagerDuty trigger", func() bool { return len(pd.got()) > 0 })
	t.Cleanup(func() {
		if t.Failed() {
			_, notes := get(t, base+"/api/v1/alerts/notifications")
			t.Logf("notifications: %s\nslack: %q\npagerduty: %q", notes, slack.got(), pd.got())
		}
	})
	eventually(t, "Slack message", func() bool {
		for _, m := range slack.got() {
			if strings.Contains(m, "HighErrors") {
				return true
			}
		}
		return false
	})
	// The warning fires a second later and must be suppressed by the critical on its instance.
	eventually(t, "warning inhibited", func() bool {
		_, body := get(t, base+"/api/v2/alerts?filter=alertname%3D%22SomeErrors%22")
		return strings.Count(body, `"state":"suppressed"`) == 2 && strings.Contains(body, `"inhibitedBy":["`)
	})
	time.Sleep(500 * time.Millisecond) // room for duplicates and leaks to show up

	var trigger struct {
		EventAction string `json:"event_action"`
		DedupKey    string `json:"dedup_key"`
		Payload     struct{ Severity string }
	}
	pages := pd.got()
	if len(pages) != 1 {
		t.Fatalf("PagerDuty got %d events, want exactly 1 trigger:\n%s", len(pages), strings.Join(pages, "\n"))
	}
	if err := json.Unmarshal([]byte(pages[0]), &trigger); err != nil || trigger.EventAction != "trigger" || trigger.DedupKey == "" || trigger.Payload.Severity != "critical" {
		t.Fatalf("PagerDuty event %s (%v)", pages[0], err)
	}
	var highMsgs int
	for _, m := range slack.got() {
		if strings.Contains(m, "SomeErrors") {
			t.Errorf("the warning was not inhibited by the critical on the same instance:\n%s", m)
		}
		if strings.Contains(m, "HighErrors") {
			highMsgs++
			if !strings.Contains(m, "a has 10 errors") || !strings.Contains(m, "b has 10 errors") {
				t.Errorf("the Slack message does not name both alerts of the group:\n%s", m)
			}
		}
	}
	if highMsgs != 1 {
		t.Errorf("Slack got %d messages for the HighErrors group, want 1", highMsgs)
	}

	// Recovery: PagerDuty gets the resolve with the trigger's dedup_key.
	errorsAt(0)
	eventually(t, "PagerDuty resolve", func() bool { return len(pd.got()) >= 2 })
	var resolve struct {
		EventAction string `json:"event_action"`
		DedupKey    string `json:"dedup_key"`
	}
	if err := json.Unmarshal([]byte(pd.got()[1]), &resolve); err != nil || resolve.EventAction != "resolve" || resolve.DedupKey != trigger.DedupKey {
		t.Fatalf("second PagerDuty event %s, want a resolve with dedup_key %s", pd.got()[1], trigger.DedupKey)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
