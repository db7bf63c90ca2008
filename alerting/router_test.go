package alerting

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// routerTestConfig routes critical alerts to PagerDuty (and on to Slack), warnings to Slack;
// a critical inhibits warnings of the same service.
const routerTestConfig = `
global:
  resolve_timeout: 5m
route:
  receiver: slack
  group_by: [service]
  group_wait: 100ms
  group_interval: 300ms
  repeat_interval: 1h
  routes:
    - matchers: ['severity="critical"']
      receiver: pagerduty
      continue: true
    - matchers: ['severity=~"critical|warning"']
      receiver: slack
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [service]
receivers:
  - name: slack
    slack_configs:
      - api_url: '{{.slack}}'
        send_resolved: true
  - name: pagerduty
    pagerduty_configs:
      - routing_key: key-1
        url: '{{.pd}}'
        severity: '{{"{{"}} template "vigil.pagerduty.severity" . {{"}}"}}'
        links:
          - href: '{{"{{"}} template "__alertmanagerURL" . {{"}}"}}'
            text: Open in Vigil
`

func startTestRouter(t *testing.T, slackFail int) (*testRouter, *fakeReceiver, *fakeReceiver) {
	t.Helper()
	slack := newFakeReceiver(t, "ok", slackFail)
	pd := newFakeReceiver(t, `{"status":"success"}`, 0)
	tr := startRouter(t, t.TempDir(), routerTestConfig, map[string]string{"slack": slack.srv.URL, "pd": pd.srv.URL}, DefaultReceivers{})
	return tr, slack, pd
}

func TestRouterGroupsAlertsIntoOneSlackMessage(t *testing.T) {
	tr, slack, _ := startTestRouter(t, 0)
	// Firing from now: an alert older than group_wait flushes its new group at once, before
	// its siblings arrive (Alertmanager's behaviour).
	tr.put(t, 0, false,
		"alertname=HighLatency,service=checkout,severity=warning",
		"alertname=ErrorRate,service=checkout,severity=warning",
		"alertname=QueueDepth,service=checkout,severity=warning")
	eventually(t, "a Slack message", func() bool { return slack.count() > 0 })
	time.Sleep(700 * time.Millisecond) // two more group intervals: nothing new may come
	msgs := slack.received()
	if len(msgs) != 1 {
		t.Fatalf("got %d Slack messages, want exactly 1:\n%s", len(msgs), msgs)
	}
	m := decode[slackMessage](t, msgs[0])
	if len(m.Attachments) != 1 {
		t.Fatalf("want one attachment: %s", msgs[0])
	}
	at := m.Attachments[0]
	if want := "[FIRING:3] checkout"; at.Title != want {
		t.Errorf("title %q, want %q", at.Title, want)
	}
	if !strings.HasPrefix(at.TitleLink, testExternalURL+"/alerts?receiver=slack") {
		t.Errorf("title link %q does not lead to Vigil's UI", at.TitleLink)
	}
	lines := strings.Split(strings.TrimSpace(at.Text), "\n")
	if len(lines) != 3 {
		t.Fatalf("want one line per alert, got:\n%s", at.Text)
	}
	for _, name := range []string{"HighLatency", "ErrorRate", "QueueDepth"} {
		var line string
		for _, l := range lines {
			if strings.Contains(l, "*"+name+"*") {
				line = l
			}
		}
		for _, want := range []string{"[warning]", "summary of " + name, "(firing for ", testExternalURL + "/alerts?fingerprint="} {
			if !strings.Contains(line, want) {
				t.Errorf("line for %s lacks %q: %q", name, want, line)
			}
		}
	}
}

func TestRouterPagerDutyTriggerThenResolveWithOneDedupKey(t *testing.T) {
	tr, _, pd := startTestRouter(t, 0)
	tr.put(t, time.Second, false, "alertname=DBDown,service=db,severity=critical")
	eventually(t, "a PagerDuty trigger", func() bool { return pd.count() == 1 })
	tr.put(t, time.Second, true, "alertname=DBDown,service=db,severity=critical")
	eventually(t, "a PagerDuty resolve", func() bool { return pd.count() == 2 })
	time.Sleep(400 * time.Millisecond)
	evs := pd.received()
	if len(evs) != 2 {
		t.Fatalf("got %d PagerDuty events, want trigger and resolve", len(evs))
	}
	trig, res := decode[pagerDutyEvent](t, evs[0]), decode[pagerDutyEvent](t, evs[1])
	if trig.EventAction != "trigger" || res.EventAction != "resolve" {
		t.Fatalf("actions %q then %q, want trigger then resolve", trig.EventAction, res.EventAction)
	}
	if trig.DedupKey == "" || trig.DedupKey != res.DedupKey {
		t.Errorf("dedup keys %q and %q must be equal and set", trig.DedupKey, res.DedupKey)
	}
	if trig.RoutingKey != "key-1" || trig.Payload.Severity != "critical" {
		t.Errorf("routing key %q severity %q", trig.RoutingKey, trig.Payload.Severity)
	}
	if !strings.Contains(trig.Payload.Summary, "db") || fmt.Sprint(trig.Payload.CustomDetails["num_firing"]) != "1" {
		t.Errorf("summary %q details %v", trig.Payload.Summary, trig.Payload.CustomDetails)
	}
	if len(trig.Links) != 1 || !strings.HasPrefix(trig.Links[0].Href, testExternalURL+"/alerts?") {
		t.Errorf("links %+v do not lead to Vigil", trig.Links)
	}
}

func TestRouterInhibitsWarningUnderCritical(t *testing.T) {
	tr, slack, _ := startTestRouter(t, 0)
	tr.put(t, 0, false,
		"alertname=DBDown,service=db,severity=critical",
		"alertname=DBSlow,service=db,severity=warning",
		"alertname=CacheSlow,service=cache,severity=warning")
	eventually(t, "Slack messages for db and cache", func() bool { return slack.count() >= 2 })
	time.Sleep(400 * time.Millisecond)
	var db, cache string
	for _, b := range slack.received() {
		m := decode[slackMessage](t, b)
		switch text := m.Attachments[0].Text; {
		case strings.Contains(m.Attachments[0].Title, "db"):
			db += text
		case strings.Contains(m.Attachments[0].Title, "cache"):
			cache += text
		}
	}
	if !strings.Contains(db, "DBDown") || strings.Contains(db, "DBSlow") {
		t.Errorf("db group must list DBDown and not the inhibited DBSlow:\n%s", db)
	}
	if !strings.Contains(cache, "CacheSlow") {
		t.Errorf("the cache warning is not inhibited (other service):\n%s", cache)
	}
}

// amtoolSilence is the JSON amtool posts for `amtool silence add service=quiet`.
func amtoolSilence(matchers string, starts, ends time.Time) string {
	return fmt.Sprintf(`{"matchers":%s,"startsAt":%q,"endsAt":%q,"createdBy":"alice","comment":"maintenance"}`,
		matchers, starts.UTC().Format(time.RFC3339Nano), ends.UTC().Format(time.RFC3339Nano))
}

func TestRouterSilenceFromAPIStopsNotifications(t *testing.T) {
	tr, slack, _ := startTestRouter(t, 0)
	code, body := tr.do(t, "POST", "/api/v2/silences",
		amtoolSilence(`[{"name":"service","value":"quiet","isRegex":false,"isEqual":true}]`, time.Now(), time.Now().Add(time.Hour)))
	if code != 200 || !strings.Contains(body, "silenceID") {
		t.Fatalf("create silence: %d %s", code, body)
	}
	tr.put(t, time.Second, false, "alertname=A,service=quiet,severity=warning", "alertname=B,service=loud,severity=warning")
	eventually(t, "the unsilenced alert's message", func() bool { return slack.count() >= 1 })
	time.Sleep(500 * time.Millisecond)
	for _, b := range slack.received() {
		if strings.Contains(string(b), "quiet") {
			t.Fatalf("a silenced alert was notified: %s", b)
		}
	}
	code, body = tr.do(t, "GET", "/api/v2/alerts?filter=service%3D%22quiet%22", "")
	if code != 200 || !strings.Contains(body, `"silencedBy":["`) || !strings.Contains(body, `"state":"suppressed"`) {
		t.Errorf("GET alerts does not show the silence: %d %s", code, body)
	}
	code, body = tr.do(t, "GET", "/api/v2/silences?filter=service%3D%22quiet%22", "")
	if code != 200 || !strings.Contains(body, `"state":"active"`) {
		t.Errorf("GET silences: %d %s", code, body)
	}
}

func TestRouterRestartKeepsSilencesAndDoesNotPageAgain(t *testing.T) {
	slack := newFakeReceiver(t, "ok", 0)
	pd := newFakeReceiver(t, `{"status":"success"}`, 0)
	urls := map[string]string{"slack": slack.srv.URL, "pd": pd.srv.URL}
	dir := t.TempDir()
	tr := startRouter(t, dir, routerTestConfig, urls, DefaultReceivers{})
	code, body := tr.do(t, "POST", "/api/v2/silences",
		amtoolSilence(`[{"name":"service","value":"quiet","isRegex":false,"isEqual":true}]`, time.Now(), time.Now().Add(time.Hour)))
	if code != 200 {
		t.Fatalf("create silence: %d %s", code, body)
	}
	var created struct{ SilenceID string }
	json.Unmarshal([]byte(body), &created)
	starts := 2 * time.Second
	tr.put(t, starts, false, "alertname=DBDown,service=db,severity=critical")
	eventually(t, "the first page", func() bool { return pd.count() == 1 })
	tr.stop(t)

	tr2 := startRouter(t, dir, routerTestConfig, urls, DefaultReceivers{})
	tr2.put(t, starts, false, "alertname=DBDown,service=db,severity=critical") // the rules send it again
	tr2.put(t, time.Second, false, "alertname=Other,service=web,severity=critical")
	eventually(t, "the page for a new alert", func() bool { return pd.count() >= 2 })
	time.Sleep(500 * time.Millisecond)
	if n := pd.count(); n != 2 {
		t.Fatalf("got %d pages, want 2: the restart paged again for an alert already notified", n)
	}
	if !strings.Contains(string(pd.received()[1]), "web") {
		t.Errorf("second page is not the new alert: %s", pd.received()[1])
	}
	code, body = tr2.do(t, "GET", "/api/v2/silence/"+created.SilenceID, "")
	if code != 200 || !strings.Contains(body, `"state":"active"`) {
		t.Fatalf("the silence did not survive the restart: %d %s", code, body)
	}
}

func TestRouterRetriesFailingSlackWithoutBlockingPagerDuty(t *testing.T) {
	tr, slack, pd := startTestRouter(t, 2)
	tr.put(t, time.Second, false, "alertname=DBDown,service=db,severity=critical")
	eventually(t, "the page", func() bool { return pd.count() == 1 })
	eventually(t, "Slack's delivery after retries", func() bool { return slack.count() == 1 })
	// The receiver has the message before the notifier, reading its answer, counts it.
	var m string
	for _, want := range []string{
		`vigil_alerting_notifications_failed_total{integration="slack",receiver="slack"} 2`,
		`vigil_alerting_notifications_total{integration="slack",receiver="slack"} 3`,
		`vigil_alerting_notifications_total{integration="pagerduty",receiver="pagerduty"} 1`,
	} {
		eventually(t, want, func() bool { m = tr.metrics(); return strings.Contains(m, want) })
	}
	if strings.Contains(m, `vigil_alerting_notifications_failed_total{integration="pagerduty"`) {
		t.Errorf("PagerDuty did not fail:\n%s", m)
	}
	code, body := tr.do(t, "GET", "/api/v1/alerts/notifications", "")
	if code != 200 || !strings.Contains(body, "unexpected status code 500") || !strings.Contains(body, `"willRetry":true`) {
		t.Errorf("notification history does not show the failures: %d %s", code, body)
	}
}

func TestRouterDefaultConfigRoutesBySeverity(t *testing.T) {
	slack := newFakeReceiver(t, "ok", 0)
	pd := newFakeReceiver(t, `{"status":"success"}`, 0)
	tr := startRouter(t, t.TempDir(), "", nil, DefaultReceivers{
		SlackWebhookURL: slack.srv.URL, PagerDutyRoutingKey: "default-key", PagerDutyURL: pd.srv.URL,
	})
	// Older than group_wait, so the groups flush at once.
	tr.put(t, time.Minute, false,
		"alertname=Down,service=api,severity=critical",
		"alertname=Slow,service=web,severity=medium",
		"alertname=Meh,service=batch,severity=low")
	eventually(t, "the critical page and the medium Slack message", func() bool { return pd.count() == 1 && slack.count() == 1 })
	time.Sleep(300 * time.Millisecond)
	if pd.count() != 1 || slack.count() != 1 {
		t.Fatalf("pages %d, Slack messages %d; want 1 and 1 (low notifies no one)", pd.count(), slack.count())
	}
	ev := decode[pagerDutyEvent](t, pd.received()[0])
	if ev.RoutingKey != "default-key" || ev.Payload.Severity != "critical" || !strings.Contains(ev.Payload.Summary, "Down") {
		t.Errorf("page %+v", ev)
	}
	if !strings.Contains(string(slack.received()[0]), "Slow") {
		t.Errorf("Slack message is not the medium alert: %s", slack.received()[0])
	}
	code, body := tr.do(t, "GET", "/api/v2/alerts/groups?filter=severity%3D%22low%22", "")
	if code != 200 || !strings.Contains(body, `"Meh"`) || !strings.Contains(body, `"ui-only"`) {
		t.Errorf("the low alert must show in the API under ui-only: %d %s", code, body)
	}
}

func TestRouterDefaultConfigWithoutReceiversLoads(t *testing.T) {
	b, err := DefaultConfig(DefaultReceivers{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := parseRouterConfig(b, "default")
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	for _, r := range cfg.am.Receivers {
		if len(r.PagerdutyConfigs)+len(r.SlackConfigs) != 0 {
			t.Errorf("receiver %s has integrations without URLs or keys", r.Name)
		}
	}
	if !strings.Contains(string(b), "active_time_intervals: [business-hours]") {
		t.Errorf("high must page in business hours only:\n%s", b)
	}
}

func TestRouterLoadConfigRefusesBadFileAndKeepsOld(t *testing.T) {
	tr, slack, _ := startTestRouter(t, 0)
	f := func(name, text, want string) {
		t.Helper()
		path := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		err := tr.LoadConfig(path)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one naming the file and %q", name, err, want)
		}
	}
	f("unknown-field.yml", "route:\n  receiver: x\n  group_bye: [a]\nreceivers:\n  - name: x\n", "line 3")
	f("undefined-receiver.yml", "route:\n  receiver: nobody\nreceivers:\n  - name: x\n", `undefined receiver "nobody"`)
	// The vigil section is cut out without shifting Alertmanager's line numbers.
	f("after-vigil.yml", "vigil:\n  escalation_policies: []\nroute:\n  receiver: x\n  bogus: 1\nreceivers:\n  - name: x\n", "line 5")
	f("bad-vigil.yml", "route:\n  receiver: x\nvigil:\n  escalation_policies:\n    - name: p\n      stepz: []\nreceivers:\n  - name: x\n", "line 6")
	f("undefined-policy.yml", "route:\n  receiver: x\n  labels: {escalation_policy: nope}\nreceivers:\n  - name: x\n", `undefined escalation policy "nope"`)
	f("bad-step.yml", "route:\n  receiver: x\nreceivers:\n  - name: x\nvigil:\n  escalation_policies:\n    - name: p\n      steps: [{after: 5m, receiver: ghost}]\n", `undefined receiver "ghost"`)

	// The old configuration still routes.
	tr.put(t, time.Second, false, "alertname=StillRouted,service=s,severity=warning")
	eventually(t, "a message under the old configuration", func() bool { return slack.count() == 1 })
}

func TestRouterBadInputIs400(t *testing.T) {
	tr, _, _ := startTestRouter(t, 0)
	now := time.Now()
	f := func(name, path, body string) {
		t.Helper()
		if code, resp := tr.do(t, "POST", path, body); code != 400 {
			t.Errorf("%s: got %d %s, want 400", name, code, resp)
		}
	}
	eq := `[{"name":"a","value":"b","isRegex":false,"isEqual":true}]`
	f("silence without matchers", "/api/v2/silences", amtoolSilence(`[]`, now, now.Add(time.Hour)))
	f("silence ending before it starts", "/api/v2/silences", amtoolSilence(eq, now.Add(time.Hour), now))
	f("silence already over", "/api/v2/silences", amtoolSilence(eq, now.Add(-2*time.Hour), now.Add(-time.Hour)))
	f("silence matching everything", "/api/v2/silences", amtoolSilence(`[{"name":"a","value":".*","isRegex":true,"isEqual":true}]`, now, now.Add(time.Hour)))
	f("silence not JSON", "/api/v2/silences", `{"matchers":`)
	f("alert with a bad label name", "/api/v2/alerts", `[{"labels":{"alertname":"x","bad-name":"y"}}]`)
	f("alert without labels", "/api/v2/alerts", `[{"annotations":{"a":"b"}}]`)
	f("alert ending before it starts", "/api/v2/alerts",
		fmt.Sprintf(`[{"labels":{"alertname":"x"},"startsAt":%q,"endsAt":%q}]`, now.Format(time.RFC3339), now.Add(-time.Hour).Format(time.RFC3339)))
	if code, body := tr.do(t, "POST", "/api/v2/alerts", `[{"labels":{"alertname":"Fine","severity":"warning"}}]`); code != 200 {
		t.Errorf("a good alert: %d %s", code, body)
	}
	if code, body := tr.do(t, "GET", "/api/v2/alerts?filter=alertname%3D%22Fine%22", ""); code != 200 || !strings.Contains(body, "Fine") {
		t.Errorf("the good alert is not listed: %d %s", code, body)
	}
	if code, _ := tr.do(t, "DELETE", "/api/v2/silence/00000000-0000-0000-0000-000000000000", ""); code != 404 {
		t.Errorf("expiring an unknown silence: %d, want 404", code)
	}
	if code, body := tr.do(t, "GET", "/api/v2/status", ""); code != 200 || !strings.Contains(body, `"original":`) {
		t.Errorf("status: %d %s", code, body)
	}
}

func TestRouterStopWithoutStart(t *testing.T) {
	r, err := OpenRouter(t.TempDir(), RouterOptions{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}
