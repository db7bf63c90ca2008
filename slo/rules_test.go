package slo

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

// The generated rule file, from the native and OpenSLO examples and golden signals with
// overrides, is testdata/rules.golden.yml (go test ./slo/ -run TestRuleFileGolden -update
// rewrites it); it parses as Prometheus's rule manager parses it, and every expression is
// PromQL.
func TestRuleFileGolden(t *testing.T) {
	set := mustLoad(t, map[string]string{"native.yml": nativeExample, "openslo.yml": openSLOExample})
	yml, err := set.RuleGroups(RuleOptions{GoldenSignals: GoldenSignals{
		Latency:    Signal{Threshold: 800},
		Saturation: Signal{Query: "max by (service_name) (process_cpu_utilization)"},
		Services: []ServiceSignals{
			{Name: "checkout", Latency: Signal{Threshold: 300, Severity: "critical"}, Saturation: Signal{Query: `max(process_cpu_utilization{job="checkout"})`}},
			{Name: "batch", Disabled: true},
			{Name: "search", Traffic: Signal{Disabled: true}},
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "rules.golden.yml")
	if *update {
		if err := os.WriteFile(golden, yml, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(yml, want) {
		t.Errorf("generated rules differ from %s (run with -update and review the diff):\n%s", golden, yml)
	}
	groups, errs := rulefmt.Parse(yml, false, model.UTF8Validation, parser.NewParser(parser.Options{}), nil)
	if len(errs) > 0 {
		t.Fatalf("rulefmt: %v", errs)
	}
	p := parser.NewParser(parser.Options{})
	alerts := 0
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if _, err := p.ParseExpr(r.Expr); err != nil {
				t.Errorf("%s: %v", r.Expr, err)
			}
			if r.Alert != "" {
				alerts++
				if r.Labels["severity"] == "" || r.Labels["service"] == "" {
					t.Errorf("alert %s lacks severity or service: %v", r.Alert, r.Labels)
				}
			}
		}
	}
	if alerts == 0 {
		t.Error("no alerts generated")
	}
}

func TestGoldenSignalsValidate(t *testing.T) {
	f := func(gs GoldenSignals, wantErr bool) {
		t.Helper()
		if err := gs.Validate(); (err != nil) != wantErr {
			t.Errorf("Validate(%+v) = %v", gs, err)
		}
	}
	f(GoldenSignals{}, false)
	f(GoldenSignals{Errors: Signal{Severity: "urgent"}}, true)
	f(GoldenSignals{Traffic: Signal{Threshold: 1.5}}, true)
	f(GoldenSignals{Saturation: Signal{Query: "max(("}}, true)
	f(GoldenSignals{Services: []ServiceSignals{{Name: "a"}, {Name: "a"}}}, true)
}

func TestAPIRoutes(t *testing.T) {
	s := openStore(t)
	set := mustLoad(t, map[string]string{"native.yml": nativeExample})
	h := NewAPI(s.engine, s.db, func() *Set { return set })
	f := func(path string, code int) []byte {
		t.Helper()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != code {
			t.Errorf("GET %s = %d, want %d: %s", path, rec.Code, code, rec.Body)
		}
		return rec.Body.Bytes()
	}
	var list struct {
		Status string   `json:"status"`
		Data   []Status `json:"data"`
	}
	if err := json.Unmarshal(f("/api/v1/slos?time=1741867200", http.StatusOK), &list); err != nil || list.Status != "success" || len(list.Data) != 4 {
		t.Errorf("list: %v %+v", err, list)
	}
	f("/api/v1/slos/nope", http.StatusNotFound)
	f("/api/v1/slos/checkout.latency?time=yesterday", http.StatusBadRequest)
	f("/api/v1/slos/checkout.latency", http.StatusOK)
}
