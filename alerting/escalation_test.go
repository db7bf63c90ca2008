package alerting

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
)

const escalationTestConfig = `
route:
  receiver: primary
  group_by: [alertname]
  group_wait: 50ms
  group_interval: 300ms
  repeat_interval: 1h
  labels:
    escalation_policy: oncall
receivers:
  - name: primary
    webhook_configs: [{url: '{{.primary}}'}]
  - name: secondary
    webhook_configs: [{url: '{{.secondary}}', send_resolved: true}]
vigil:
  escalation_policies:
    - name: oncall
      steps:
        - after: 1s
          receiver: secondary
`

// webhookAlerts returns the alertnames of a webhook payload.
func webhookAlerts(t *testing.T, b []byte) (status string, names []string) {
	var m struct {
		Status string `json:"status"`
		Alerts []struct {
			Labels map[string]string `json:"labels"`
		} `json:"alerts"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, a := range m.Alerts {
		names = append(names, a.Labels["alertname"])
	}
	return m.Status, names
}

// The policies may sit in the Alertmanager file's vigil: section or come from Vigil's own
// configuration (alerting.escalation_policies), which keeps that file amtool-valid.
func TestEscalationMovesUnacknowledgedGroupsOnly(t *testing.T) {
	apart := []EscalationPolicy{{Name: "oncall", Steps: []EscalationStep{{After: model.Duration(time.Second), Receiver: "secondary"}}}}
	for _, tc := range []struct {
		name     string
		cfg      string
		policies []EscalationPolicy
	}{
		{"in the file", escalationTestConfig, nil},
		{"in Vigil's config", escalationTestConfig[:strings.Index(escalationTestConfig, "vigil:")], apart},
	} {
		t.Run(tc.name, func(t *testing.T) { testEscalation(t, tc.cfg, tc.policies) })
	}
}

func testEscalation(t *testing.T, cfg string, policies []EscalationPolicy) {
	primary := newFakeReceiver(t, "ok", 0)
	secondary := newFakeReceiver(t, "ok", 0)
	dir := t.TempDir()
	tr := startRouterWith(t, dir, cfg, map[string]string{"primary": primary.srv.URL, "secondary": secondary.srv.URL}, DefaultReceivers{}, policies)
	tr.put(t, 0, false, "alertname=Ignored,severity=critical", "alertname=Handled,severity=critical")

	var groups []GroupState
	eventually(t, "both groups", func() bool {
		_, body := tr.do(t, "GET", "/api/v1/alerts/groups", "")
		groups = nil
		json.Unmarshal([]byte(body), &groups)
		return len(groups) == 2
	})
	var handled GroupState
	for _, g := range groups {
		if g.Labels["alertname"] == "Handled" {
			handled = g
		}
		if g.EscalationPolicy != "oncall" {
			t.Errorf("group %s has policy %q", g.Key, g.EscalationPolicy)
		}
	}
	if code, body := tr.do(t, "POST", "/api/v1/alerts/groups/"+handled.ID+"/ack", `{"by":"bob"}`); code != 200 {
		t.Fatalf("ack: %d %s", code, body)
	}
	if code, _ := tr.do(t, "POST", "/api/v1/alerts/groups/nope/ack", ""); code != 404 {
		t.Errorf("ack of an unknown group: %d, want 404", code)
	}
	eventually(t, "the primary's two notifications", func() bool { return primary.count() == 2 })
	eventually(t, "escalation to the secondary", func() bool { return secondary.count() >= 1 })
	time.Sleep(400 * time.Millisecond) // more evaluations: the acknowledged group must stay put
	for _, b := range secondary.received() {
		if _, names := webhookAlerts(t, b); strings.Join(names, ",") != "Ignored" {
			t.Fatalf("secondary got %v; only the unacknowledged group escalates", names)
		}
	}
	if n := secondary.count(); n != 1 {
		t.Errorf("secondary notified %d times, want once (repeat_interval dedups)", n)
	}

	// Resolving tells the step receiver too.
	tr.put(t, 0, true, "alertname=Ignored,severity=critical")
	eventually(t, "the secondary's resolve", func() bool {
		b := secondary.received()
		st, _ := webhookAlerts(t, b[len(b)-1])
		return st == "resolved"
	})

	// The acknowledgement is on disk.
	tr.stop(t)
	acks, err := openAckStore(filepath.Join(dir, "acks.json"))
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := acks.get(handled.Key); !ok || a.By != "bob" {
		t.Errorf("acknowledgement not persisted: %+v %v", a, ok)
	}
}

// Policies given apart are checked with the file: a step naming an unknown receiver, or a
// name the file's vigil: section already uses, refuses the load.
func TestEscalationPoliciesApartAreValidated(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "alerting.yml")
	if err := os.WriteFile(path, []byte(escalationTestConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := OpenRouter(t.TempDir(), RouterOptions{}, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	for _, tc := range []struct {
		name     string
		policies []EscalationPolicy
		want     string
	}{
		{"unknown receiver", []EscalationPolicy{{Name: "other", Steps: []EscalationStep{{After: model.Duration(time.Minute), Receiver: "nobody"}}}}, "nobody"},
		{"duplicate name", []EscalationPolicy{{Name: "oncall", Steps: []EscalationStep{{After: model.Duration(time.Minute), Receiver: "secondary"}}}}, "oncall"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := r.LoadConfigWith(path, tc.policies)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "escalation_policies") {
				t.Fatalf("got %v, want a refusal naming %q and alerting.escalation_policies", err, tc.want)
			}
		})
	}
}
