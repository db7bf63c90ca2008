package alerting

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestAPIWithAmtool drives the API v2 with the real amtool (Debian's prometheus-alertmanager
// package) when it is installed: alert query, silence add, query and expire.
func TestAPIWithAmtool(t *testing.T) {
	amtool, err := exec.LookPath("amtool")
	if err != nil {
		t.Skip("amtool not installed")
	}
	tr, _, _ := startTestRouter(t, 0)
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(amtool, append([]string{"--alertmanager.url=" + tr.api.URL}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("amtool %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	tr.put(t, 0, false, "alertname=AmtoolSees,service=x,severity=warning")
	if out := run("alert", "query", "alertname=AmtoolSees"); !strings.Contains(out, "AmtoolSees") {
		t.Fatalf("alert query:\n%s", out)
	}
	var id string // amtool may warn about versions before the ID
	for _, f := range strings.Fields(run("silence", "add", "service=x", "--comment=test", "--author=alice", "--duration=1h")) {
		if len(f) == 36 && strings.Count(f, "-") == 4 {
			id = f
		}
	}
	if id == "" {
		t.Fatalf("silence add printed %q", id)
	}
	if out := run("silence", "query", "service=x"); !strings.Contains(out, id) {
		t.Fatalf("silence query lacks %s:\n%s", id, out)
	}
	eventually(t, "the alert to show as silenced", func() bool {
		return strings.Contains(run("alert", "query", "--silenced", "alertname=AmtoolSees"), "AmtoolSees")
	})
	run("silence", "expire", id)
	time.Sleep(10 * time.Millisecond)
	if out := run("silence", "query", "service=x"); strings.Contains(out, id) {
		t.Fatalf("expired silence still active:\n%s", out)
	}
}
