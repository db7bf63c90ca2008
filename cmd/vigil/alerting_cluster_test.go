package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"

	"github.com/vigilhq/vigil/internal/tlsreload/tlstest"
)

// peerTimeout is alerting.cluster.peer_timeout in the pair tests: the second peer waits this
// long before it deduplicates against the gossiped notification log.
const peerTimeout = 2 * time.Second

// freeGossipPort returns a loopback host:port free for both TCP and UDP (memberlist binds both).
func freeGossipPort(t *testing.T) string {
	t.Helper()
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		u, err := net.ListenPacket("udp", addr)
		l.Close()
		if err == nil {
			u.Close()
			return addr
		}
	}
	t.Fatal("no port free for both TCP and UDP")
	return ""
}

// clusterStatus is the cluster part of Alertmanager's GET /api/v2/status.
type clusterStatus struct {
	Cluster struct {
		Name   string `json:"name"`
		Status string `json:"status"`
		Peers  []struct {
			Name    string `json:"name"`
			Address string `json:"address"`
		} `json:"peers"`
	} `json:"cluster"`
}

func getClusterStatus(t *testing.T, base string) clusterStatus {
	t.Helper()
	var st clusterStatus
	code, body := get(t, base+"/api/v2/status")
	if code != 200 {
		t.Fatalf("GET /api/v2/status: %d %s", code, body)
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("decode status %s: %v", body, err)
	}
	return st
}

// startPair starts two Vigil processes with the alerting keys given (indented under
// alerting:, paths relative to dir) and clusterExtra under alerting.cluster, pointed at each
// other, and waits until each sees both, settled, in Alertmanager's status shape (what
// amtool cluster show reads).
func startPair(t *testing.T, dir, alerting string, clusterExtra ...string) ([2]*proc, [2]string) {
	t.Helper()
	gossip := []string{freeGossipPort(t), freeGossipPort(t)}
	var procs [2]*proc
	var bases [2]string
	for i := range 2 {
		cfg := filepath.Join(dir, fmt.Sprintf("vigil-%d.yml", i))
		if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`alerting:%s
  cluster:
    listen: %s
    peers: [%s]
    peer_timeout: %s
    gossip_interval: 100ms
    pushpull_interval: 1s
    settle_timeout: 2s
%s`, alerting, gossip[i], gossip[1-i], promDuration(peerTimeout), strings.Join(clusterExtra, ""))), 0o644); err != nil {
			t.Fatal(err)
		}
		procs[i] = startVigil(t, "--config", cfg)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for i, p := range procs {
				t.Logf("instance %d log:\n%s", i, p.log())
			}
		}
	})
	for i, p := range procs {
		bases[i] = "http://" + p.waitReady(t)
	}
	for _, base := range bases {
		eventually(t, "the pair in "+base+"/api/v2/status", func() bool {
			st := getClusterStatus(t, base)
			return st.Cluster.Status == "ready" && len(st.Cluster.Peers) == 2
		})
	}
	return procs, bases
}

// createSilence creates a silence of matcher name=value on base for an hour and returns its id.
func createSilence(t *testing.T, base, name, value string) string {
	t.Helper()
	now := time.Now().UTC()
	code, body := post(t, base+"/api/v2/silences", "application/json", []byte(fmt.Sprintf(
		`{"matchers":[{"name":%q,"value":%q,"isRegex":false,"isEqual":true}],"startsAt":%q,"endsAt":%q,"createdBy":"test","comment":"HA"}`,
		name, value, now.Format(time.RFC3339), now.Add(time.Hour).Format(time.RFC3339))))
	if code != 200 {
		t.Fatalf("create silence on %s: %d %s", base, code, body)
	}
	var created struct{ SilenceID string }
	if err := json.Unmarshal([]byte(body), &created); err != nil || created.SilenceID == "" {
		t.Fatalf("silence answer %s: %v", body, err)
	}
	return created.SilenceID
}

// TestAlertingClusterPagesOnce runs two Vigil processes with the same rules and routing,
// pointed at each other: the alert fires on both and Slack gets one message; a silence made on
// one suppresses on both; an escalation step pages its receiver once, and a group acknowledged
// on one escalates on neither; killing the instance that paged leaves the other paging.
func TestAlertingClusterPagesOnce(t *testing.T) {
	slack := newReceiver(t, 200, "ok")
	secondary := newReceiver(t, 200, "ok") // the escalation step's Slack channel
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(`
groups:
  - name: ha
    interval: 200ms
    rules:
      - alert: HA
        expr: ha_test > 0
        labels: {severity: medium}
        annotations: {summary: "case {{ $labels.case }}"}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "alertmanager.yml"), []byte(fmt.Sprintf(`
route:
  receiver: slack
  group_by: [alertname, case]
  group_wait: 200ms
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - matchers: ['case=~"escalate|acked"']
      receiver: slack
      labels: {escalation_policy: oncall}
receivers:
  - name: slack
    slack_configs:
      - api_url: %s
        channel: '#alerts'
  - name: secondary
    slack_configs:
      - api_url: %s
        channel: '#oncall'
`, slack.srv.URL, secondary.srv.URL)), 0o644); err != nil {
		t.Fatal(err)
	}
	procs, bases := startPair(t, dir, `
  rule_files: [rules.yml]
  config_file: alertmanager.yml
  escalation_policies:
    - name: oncall
      steps: [{after: 10s, receiver: secondary}]`)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("slack: %q\nsecondary: %q", slack.got(), secondary.got())
		}
	})
	if amtool, err := exec.LookPath("amtool"); err == nil {
		out, err := exec.Command(amtool, "--alertmanager.url="+bases[1], "-o", "extended", "cluster", "show").CombinedOutput()
		st := getClusterStatus(t, bases[1])
		ok := err == nil && strings.Contains(string(out), "ready") && strings.Contains(string(out), st.Cluster.Name)
		for _, p := range st.Cluster.Peers {
			ok = ok && strings.Contains(string(out), p.Name) && strings.Contains(string(out), p.Address)
		}
		if !ok {
			t.Errorf("amtool cluster show: %v\n%s", err, out)
		}
	} else {
		t.Log("amtool not installed: cluster show not checked")
	}
	_, metrics := get(t, bases[0]+"/metrics")
	if !strings.Contains(metrics, "alertmanager_cluster_members 2") || !strings.Contains(metrics, "alertmanager_cluster_enabled 1") {
		t.Errorf("/metrics lacks alertmanager_cluster_members 2 or alertmanager_cluster_enabled 1")
	}

	// A silence made on instance 0 reaches instance 1 by gossip.
	silenceID := createSilence(t, bases[0], "case", "silenced")
	eventually(t, "the silence on instance 1", func() bool {
		_, body := get(t, bases[1]+"/api/v2/silence/"+silenceID)
		return strings.Contains(body, `"state":"active"`)
	})

	// The same data on both, as two Prometheus-style replicas scraping the same targets.
	write := func(base string, cases ...string) {
		t.Helper()
		ts := time.Now().UnixMilli()
		var series []prompb.TimeSeries
		for _, c := range cases {
			series = append(series, prompb.TimeSeries{
				Labels:  []prompb.Label{{Name: "__name__", Value: "ha_test"}, {Name: "case", Value: c}},
				Samples: []prompb.Sample{{Value: 1, Timestamp: ts}},
			})
		}
		if err := remoteWriteV1(t, base, series...); err != nil {
			t.Fatal(err)
		}
	}
	cases := []string{"page", "silenced", "escalate", "acked"}
	write(bases[0], cases...)
	write(bases[1], cases...)

	count := func(r *receiver, c string) int {
		n := 0
		for _, m := range r.got() {
			if strings.Contains(m, "case "+c) {
				n++
			}
		}
		return n
	}
	messages := func(c string) int { return count(slack, c) }

	// Acknowledge one escalating group on instance 1, well before its step's 10s: the
	// acknowledgement reaches instance 0 by gossip.
	var ackedID string
	eventually(t, "the acked group on instance 1", func() bool {
		_, body := get(t, bases[1]+"/api/v1/alerts/groups")
		var groups []struct {
			ID     string
			Labels map[string]string
		}
		_ = json.Unmarshal([]byte(body), &groups)
		for _, g := range groups {
			if g.Labels["case"] == "acked" {
				ackedID = g.ID
			}
		}
		return ackedID != ""
	})
	if code, body := post(t, bases[1]+"/api/v1/alerts/groups/"+ackedID+"/ack", "application/json", []byte(`{"by":"bob"}`)); code != 200 {
		t.Fatalf("ack on instance 1: %d %s", code, body)
	}
	eventually(t, "the acknowledgement on instance 0", func() bool {
		_, body := get(t, bases[0]+"/api/v1/alerts/groups")
		i := strings.Index(body, `"id":"`+ackedID+`"`)
		return i >= 0 && strings.Contains(body[i:], `"by":"bob"`)
	})
	eventually(t, "the Slack message", func() bool { return messages("page") > 0 })
	for _, base := range bases {
		eventually(t, "the silenced alert suppressed on "+base, func() bool {
			_, body := get(t, base+`/api/v2/alerts?filter=case%3D%22silenced%22`)
			return strings.Contains(body, `"state":"suppressed"`) && strings.Contains(body, silenceID)
		})
	}
	// The second peer decides after its wait: leave it that, twice over, to send a duplicate.
	time.Sleep(2*peerTimeout + time.Second)
	if n := messages("page"); n != 1 {
		t.Fatalf("Slack got %d messages for the alert group, want 1", n)
	}
	if n := messages("silenced"); n != 0 {
		t.Fatalf("Slack got %d messages for the group silenced on instance 0, want 0", n)
	}
	// Escalation runs on both (every 30s): once each has escalated, the step's receiver has
	// been paged once for the unacknowledged group and never for the acknowledged one.
	escalated := func(base string) bool {
		_, m := get(t, base+"/metrics")
		return strings.Contains(m, `vigil_alerting_escalations_total{receiver="secondary"}`)
	}
	for deadline := time.Now().Add(2 * time.Minute); !(escalated(bases[0]) && escalated(bases[1])); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for both instances to escalate")
		}
	}
	eventually(t, "the escalation page", func() bool { return count(secondary, "escalate") > 0 })
	time.Sleep(2*peerTimeout + time.Second)
	if n, m := count(secondary, "escalate"), count(secondary, "acked"); n != 1 || m != 0 {
		t.Fatalf("the escalation receiver got %d messages for the group, want 1, and %d for the acknowledged one, want 0", n, m)
	}

	// Exactly one instance attempted the delivery of the first group; kill that one.
	pager := -1
	for i, base := range bases {
		_, body := get(t, base+"/api/v1/alerts/notifications")
		var notes []struct{ Receiver, GroupKey string }
		if err := json.Unmarshal([]byte(body), &notes); err != nil {
			t.Fatalf("notifications of instance %d: %v\n%s", i, err, body)
		}
		for _, n := range notes {
			if n.Receiver == "slack" && strings.Contains(n.GroupKey, `case="page"`) {
				if pager >= 0 && pager != i {
					t.Fatalf("both instances delivered the group to Slack")
				}
				pager = i
			}
		}
	}
	if pager < 0 {
		t.Fatal("no instance records the Slack delivery")
	}
	if err := procs[pager].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	procs[pager].waitExit(t, 10*time.Second)

	// A new alert fires on the survivor alone: it pages after its wait, with its peer gone
	// (or still only suspected dead, depending on how soon memberlist notices).
	survivor := bases[1-pager]
	write(survivor, "after")
	eventually(t, "the survivor's page", func() bool { return messages("after") == 1 })
}

// promDuration formats d as a Prometheus duration for the YAML above.
func promDuration(d time.Duration) string { return fmt.Sprintf("%dms", d.Milliseconds()) }

// TestAlertingClusterOverMutualTLS: with Alertmanager's cluster TLS file, the pair gossips over
// mutual TLS (certificates of one CA), and a silence still reaches the other instance. An
// instance stopped by SIGTERM exits 0 and leaves: the other sees it gone.
func TestAlertingClusterOverMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "gossip CA")
	now := time.Now().Add(-time.Hour)
	ca.Server(t).WriteFiles(t, dir, "server", now)
	ca.Client(t, "vigil").WriteFiles(t, dir, "client", now)
	tlstest.WriteFile(t, filepath.Join(dir, "ca.pem"), ca.CertPEM, now)
	tlstest.WriteFile(t, filepath.Join(dir, "cluster-tls.yml"), []byte(`tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_ca_file: ca.pem
  client_auth_type: RequireAndVerifyClientCert
tls_client_config:
  cert_file: client.crt
  key_file: client.key
  ca_file: ca.pem
`), now)
	procs, bases := startPair(t, dir, "", "    tls_config_file: cluster-tls.yml\n")
	// The gossip went through the TLS transport: it counts the connections it accepted.
	_, metrics := get(t, bases[0]+"/metrics")
	if !strings.Contains(metrics, "alertmanager_cluster_members 2") ||
		!strings.Contains(metrics, "alertmanager_tls_transport_stream_connections_received_total") ||
		strings.Contains(metrics, "alertmanager_tls_transport_stream_connections_received_total 0\n") {
		t.Errorf("/metrics lacks alertmanager_cluster_members 2 or connections received by the TLS transport")
	}
	id := createSilence(t, bases[1], "service", "checkout")
	eventually(t, "the silence on instance 0", func() bool {
		_, body := get(t, bases[0]+"/api/v2/silence/"+id)
		return strings.Contains(body, `"state":"active"`)
	})

	if err := procs[0].cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := procs[0].waitExit(t, 15*time.Second); code != 0 {
		t.Fatalf("instance 0 exited %d on SIGTERM\n%s", code, procs[0].log())
	}
	eventually(t, "instance 1 to see instance 0 leave", func() bool {
		return len(getClusterStatus(t, bases[1]).Cluster.Peers) == 1
	})
}
