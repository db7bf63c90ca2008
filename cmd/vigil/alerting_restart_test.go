package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"
)

// TestAlertingRestartSendsNoDuplicate: an alert has paged once; Vigil stops and starts again
// on the same data directory while the alert keeps firing; the notification log kept on disk
// stops a second page within the repeat interval.
func TestAlertingRestartSendsNoDuplicate(t *testing.T) {
	slack := newReceiver(t, http.StatusOK, "ok")
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("rules.yml", `
groups:
  - name: restart
    interval: 200ms
    rules:
      - alert: DiskFull
        expr: e2e_disk_used_ratio > 0.9
        labels: {severity: medium}
`)
	write("alertmanager.yml", fmt.Sprintf(`
route:
  receiver: slack
  group_by: [alertname]
  group_wait: 100ms
  group_interval: 300ms
  repeat_interval: 1h
receivers:
  - name: slack
    slack_configs:
      - api_url: %s
`, slack.srv.URL))
	c, cfg := configIn(t, dir, "alerting:\n  rule_files: [rules.yml]\n  config_file: alertmanager.yml\n")
	firing := func(base string) {
		t.Helper()
		err := remoteWriteV1(t, base, prompb.TimeSeries{
			Labels:  []prompb.Label{{Name: "__name__", Value: "e2e_disk_used_ratio"}, {Name: "instance", Value: "db-1"}},
			Samples: []prompb.Sample{{Value: 0.97, Timestamp: time.Now().UnixMilli()}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	pages := func() int {
		n := 0
		for _, m := range slack.got() {
			if strings.Contains(m, "DiskFull") {
				n++
			}
		}
		return n
	}

	a := newTestApp(t, c, cfg)
	stop := startApp(t, a)
	base := waitAddr(t, a)
	eventually(t, "ready", func() bool { code, _ := get(t, base+"/readyz"); return code == 200 })
	firing(base)
	eventually(t, "first page", func() bool { return pages() == 1 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	a2 := newTestApp(t, c, cfg)
	stop2 := startApp(t, a2)
	base2 := waitAddr(t, a2)
	eventually(t, "ready after restart", func() bool { code, _ := get(t, base2+"/readyz"); return code == 200 })
	firing(base2)
	// The alert fires again at once and its group is flushed after group_wait and every
	// group_interval: give it several of those.
	eventually(t, "the alert firing again after the restart", func() bool {
		_, body := get(t, base2+"/api/v2/alerts?filter=alertname%3D%22DiskFull%22")
		return strings.Contains(body, `"state":"active"`)
	})
	time.Sleep(1500 * time.Millisecond)
	if n := pages(); n != 1 {
		t.Fatalf("Slack got %d pages for DiskFull across a restart, want 1:\n%s", n, strings.Join(slack.got(), "\n"))
	}
	if err := stop2(); err != nil {
		t.Fatal(err)
	}
}
