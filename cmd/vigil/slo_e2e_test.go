package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSLOWiring: an SLO spec and the golden-signal defaults become rules the rule manager
// evaluates (visible in /api/v1/rules), and /api/v1/slos serves the SLO; a broken spec file
// on reload keeps the previous SLOs and says why.
func TestSLOWiring(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "slos.yml")
	write := func(body string) {
		if err := os.WriteFile(spec, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(`
slos:
  - name: checkout-availability
    service: checkout
    objective: 99.9
    window: 7d
    sli:
      availability:
        errors: sum(rate(http_requests_total{job="checkout",code=~"5.."}[{{.window}}]))
        total:  sum(rate(http_requests_total{job="checkout"}[{{.window}}]))
`)
	c, cfg := configIn(t, dir, "slo:\n  files: [slos.yml]\n")
	a := newTestApp(t, c, cfg)
	stop := startApp(t, a)
	base := waitAddr(t, a)
	eventually(t, "ready", func() bool { code, _ := get(t, base+"/readyz"); return code == 200 })

	_, rules := get(t, base+"/api/v1/rules")
	for _, want := range []string{`"ErrorBudgetBurn"`, `slo:sli_error:ratio_rate5m`, `"GoldenSignalErrors"`, `"GoldenSignalLatency"`} {
		if !strings.Contains(rules, want) {
			t.Errorf("/api/v1/rules lacks %s", want)
		}
	}
	sloNames := func() []string {
		code, body := get(t, base+"/api/v1/slos")
		if code != 200 {
			t.Fatalf("/api/v1/slos: %d %s", code, body)
		}
		var r struct {
			Data []struct{ Name string }
		}
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatalf("/api/v1/slos: %v\n%s", err, body)
		}
		var names []string
		for _, s := range r.Data {
			names = append(names, s.Name)
		}
		return names
	}
	if got := sloNames(); len(got) != 1 || got[0] != "checkout-availability" {
		t.Fatalf("SLOs = %v", got)
	}
	if code, _ := get(t, base+"/api/v1/slos/checkout-availability"); code != 200 {
		t.Fatalf("/api/v1/slos/checkout-availability = %d", code)
	}

	// A broken spec: the reload reports it, and the previous SLO keeps working.
	write("slos:\n  - name: checkout-availability\n    service: checkout\n    objective: 120\n")
	if err := a.reload(t.Context()); err == nil || !strings.Contains(err.Error(), "objective") {
		t.Fatalf("reload with a bad spec = %v, want an error naming the objective", err)
	}
	if got := sloNames(); len(got) != 1 || got[0] != "checkout-availability" {
		t.Fatalf("SLOs after a refused reload = %v", got)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
