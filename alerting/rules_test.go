package alerting

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/rules"
)

// A metric crosses a threshold: the alert is pending for its `for:`, then fires with its
// labels, templated annotations and StartsAt; it is resent every ResendDelay while firing,
// and sent resolved (EndsAt set) when the value drops. A keep_firing_for rule stays firing
// that much longer. A recording rule's series is queryable.
func TestRulesAlertLifecycle(t *testing.T) {
	t.Parallel()
	store := openRuleStore(t)
	sink := &ruleSink{}
	opts := DefaultRulesOptions()
	opts.RuleFiles = []string{"testdata/rules/lifecycle.yml"}
	opts.ExternalURL = "http://vigil.example:9700/"
	opts.ExternalLabels = map[string]string{"cluster": "eu-1", "severity": "ignored-if-set"}
	opts.ResendDelay = 500 * time.Millisecond
	r := startRules(t, opts, store, sink, nil)

	store.add(t, 3, "__name__", "latency_seconds", "job", "api", "instance", "api-1:80")
	began := time.Now()

	// Pending first: the rule holds an active alert, nothing is sent.
	waitRules(t, 5*time.Second, "HighLatency pending", func() bool {
		return activeState(r, "HighLatency") == rules.StatePending
	})
	if got := sink.sent("HighLatency"); len(got) != 0 {
		t.Fatalf("pending alert was sent: %s", describeAlert(got[0]))
	}

	waitRules(t, 10*time.Second, "HighLatency sent firing twice", func() bool { return len(sink.sent("HighLatency")) >= 2 })
	firing := sink.sent("HighLatency")
	a := firing[0]
	if held := a.StartsAt.Sub(began); held < 2*time.Second {
		t.Errorf("fired %s after the sample; want at least for: 2s", held)
	}
	wantLabels := model.LabelSet{
		"alertname": "HighLatency", "job": "api", "instance": "api-1:80",
		"severity": "high", // the rule's label wins over the external label
		"cluster":  "eu-1",
	}
	if !a.Labels.Equal(wantLabels) {
		t.Errorf("labels = %s, want %s", a.Labels, wantLabels)
	}
	wantAnn := model.LabelSet{
		"summary": "api-1:80 answers in 3s",
		"runbook": "http://vigil.example:9700/runbooks/latency?cluster=eu-1",
	}
	if !a.Annotations.Equal(wantAnn) {
		t.Errorf("annotations = %s, want %s", a.Annotations, wantAnn)
	}
	wantURL := "http://vigil.example:9700/graph?g0.expr=" + url.QueryEscape("latency_seconds > 1") + "&g0.tab=1"
	if a.GeneratorURL != wantURL {
		t.Errorf("GeneratorURL = %q, want %q", a.GeneratorURL, wantURL)
	}
	if resolvedWhenSent(a) {
		t.Errorf("firing alert sent with EndsAt %s not after UpdatedAt %s", a.EndsAt, a.UpdatedAt)
	}
	if a.Fingerprint() != a.Labels.Fingerprint() {
		t.Error("alert not built with alert.New: fingerprint unset")
	}
	// A resend carries the same StartsAt, after at least ResendDelay.
	if b := firing[1]; !b.StartsAt.Equal(a.StartsAt) || b.EndsAt.Sub(a.EndsAt) < opts.ResendDelay {
		t.Errorf("resend: %s after %s; want the same StartsAt, at least %s later", describeAlert(b), describeAlert(a), opts.ResendDelay)
	}

	// The recording rule wrote its series back to the store.
	waitRules(t, 5*time.Second, "recorded series", func() bool {
		v := store.query(t, `job:latency_seconds:max{job="api"}`)
		return len(v) == 1 && v[0].F == 3
	})

	// The value drops: HighLatency resolves at the next evaluation, the sticky rule 1s later.
	store.add(t, 0.2, "__name__", "latency_seconds", "job", "api", "instance", "api-1:80")
	dropped := time.Now()
	resolved := func(name string) (model.LabelSet, time.Time, bool) {
		for _, a := range sink.sent(name) {
			if resolvedWhenSent(a) {
				return a.Labels, a.EndsAt, true
			}
		}
		return nil, time.Time{}, false
	}
	waitRules(t, 5*time.Second, "HighLatency resolved", func() bool { _, _, ok := resolved("HighLatency"); return ok })
	_, endsAt, _ := resolved("HighLatency")
	if endsAt.Before(dropped) || endsAt.Sub(dropped) > time.Second {
		t.Errorf("resolved EndsAt %s, want within 1s after the drop at %s", endsAt, dropped)
	}
	if _, _, ok := resolved("HighLatencySticky"); ok {
		t.Errorf("keep_firing_for: 1s rule resolved together with the plain rule")
	}
	waitRules(t, 5*time.Second, "HighLatencySticky resolved", func() bool { _, _, ok := resolved("HighLatencySticky"); return ok })
	lbls, stickyEnd, _ := resolved("HighLatencySticky")
	if kept := stickyEnd.Sub(endsAt); kept < time.Second {
		t.Errorf("sticky alert resolved %s after the plain one; want keep_firing_for 1s", kept)
	}
	if lbls["severity"] != "low" || lbls["cluster"] != "eu-1" {
		t.Errorf("sticky labels = %s", lbls)
	}
}

// activeState is the state of the first active alert of the named rule, or -1.
func activeState(r *Rules, name string) rules.AlertState {
	for _, ar := range r.RulesRetriever().AlertingRules() {
		if ar.Name() == name {
			for _, a := range ar.ActiveAlerts() {
				return a.State
			}
		}
	}
	return -1
}

// The retriever Prometheus's API serves /api/v1/rules and /api/v1/alerts from holds the groups
// of every loaded file, in file order; a reload with a broken file is refused, names the file
// and line, and the old groups keep evaluating; a good reload swaps them.
func TestRulesReload(t *testing.T) {
	t.Parallel()
	store := openRuleStore(t)
	dir := t.TempDir()
	writeRuleFile(t, filepath.Join(dir, "a.yml"), `
groups:
  - name: a
    interval: 100ms
    rules:
      - record: a:up:sum
        expr: sum(up)
      - alert: Down
        expr: up == 0
`)
	opts := DefaultRulesOptions()
	opts.RuleFiles = []string{filepath.Join(dir, "*.yml")}
	r := startRules(t, opts, store, &ruleSink{}, nil)

	if got, want := groupNames(r), []string{"a"}; !slices.Equal(got, want) {
		t.Fatalf("groups = %v, want %v", got, want)
	}
	if n := len(r.RulesRetriever().AlertingRules()); n != 1 {
		t.Fatalf("AlertingRules() = %d rules, want 1", n)
	}
	waitRules(t, 5*time.Second, "group a evaluated", func() bool { return !lastEval(r, "a").IsZero() })

	broken := filepath.Join(dir, "b.yml")
	writeRuleFile(t, broken, `
groups:
  - name: b
    rules:
      - alert: Broken
        expr: sum(rate(x[5m])
`)
	err := r.Reload(context.Background(), opts.RuleFiles)
	if err == nil {
		t.Fatal("reload with a broken file succeeded")
	}
	for _, want := range []string{broken + ": 5:15:", `rule 1, "Broken": could not parse expression`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("reload error %q does not contain %q", err, want)
		}
	}
	if got, want := groupNames(r), []string{"a"}; !slices.Equal(got, want) {
		t.Fatalf("after a refused reload, groups = %v, want %v", got, want)
	}
	before := lastEval(r, "a")
	waitRules(t, 5*time.Second, "old group still evaluated", func() bool { return lastEval(r, "a").After(before) })

	writeRuleFile(t, broken, `
groups:
  - name: b
    interval: 100ms
    rules:
      - record: b:up:count
        expr: count(up)
`)
	if err := r.Reload(context.Background(), opts.RuleFiles); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if got, want := groupNames(r), []string{"a", "b"}; !slices.Equal(got, want) {
		t.Fatalf("after reload, groups = %v, want %v", got, want)
	}
	if got, want := r.Files(), []string{filepath.Join(dir, "a.yml"), broken}; !slices.Equal(got, want) {
		t.Errorf("Files() = %v, want %v", got, want)
	}
	// Reloading with fewer globs drops the other groups.
	if err := r.Reload(context.Background(), []string{broken}); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if got, want := groupNames(r), []string{"b"}; !slices.Equal(got, want) {
		t.Fatalf("after reload of b only, groups = %v, want %v", got, want)
	}
}

func groupNames(r *Rules) []string {
	var names []string
	for _, g := range r.RulesRetriever().RuleGroups() {
		names = append(names, g.Name())
	}
	return names
}

func lastEval(r *Rules, group string) time.Time {
	for _, g := range r.RulesRetriever().RuleGroups() {
		if g.Name() == group {
			return g.GetLastEvaluation()
		}
	}
	return time.Time{}
}

// Every broken file in testdata/rules/bad is refused at Start with its file, line and reason;
// the messages are golden files (go test -run TestRulesBadFiles -update rewrites them).
func TestRulesBadFiles(t *testing.T) {
	t.Parallel()
	store := openRuleStore(t)
	files, err := filepath.Glob("testdata/rules/bad/*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad rule files: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			opts := DefaultRulesOptions()
			opts.RuleFiles = []string{file}
			r, err := NewRules(opts, RulesDeps{
				Queryable: store.db, Appendable: store.db, Engine: store.engine,
				Alerts: &ruleSink{}, Logs: &fakeLogs{},
			}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := r.Stop(context.Background()); err != nil {
					t.Error(err)
				}
			}()
			err = r.Start(context.Background())
			if err == nil {
				t.Fatal("Start with a broken file succeeded")
			}
			if !strings.Contains(err.Error(), file+": ") {
				t.Errorf("error %q does not name the file", err)
			}
			if len(r.RulesRetriever().RuleGroups()) != 0 {
				t.Error("a broken file left groups loaded")
			}
			golden := strings.TrimSuffix(file, ".yml") + ".err"
			got := err.Error() + "\n"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden file (run with -update): %v", err)
			}
			if got != string(want) {
				t.Errorf("error:\n%s\nwant (%s):\n%s", got, golden, want)
			}
		})
	}
}

func TestRulesOptionsAndLifecycleErrors(t *testing.T) {
	t.Parallel()
	f := func(edit func(*RulesOptions), want string) {
		t.Helper()
		o := DefaultRulesOptions()
		edit(&o)
		err := o.Validate()
		if want == "" {
			if err != nil {
				t.Errorf("Validate() = %v, want nil", err)
			}
			return
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to contain %q", err, want)
		}
	}
	f(func(*RulesOptions) {}, "")
	f(func(o *RulesOptions) { o.EvaluationInterval = 0 }, "evaluation interval 0s: must be positive")
	f(func(o *RulesOptions) { o.ResendDelay = -time.Second }, "resend delay")
	f(func(o *RulesOptions) { o.QueryOffset = -time.Second }, "query offset")
	f(func(o *RulesOptions) { o.ExternalURL = "vigil:9700" }, "must be absolute")
	f(func(o *RulesOptions) { o.ExternalURL = "https://vigil.example/prefix/" }, "")
	f(func(o *RulesOptions) { o.ExternalLabels = map[string]string{"__name__": "x"} }, "invalid label name")
	f(func(o *RulesOptions) { o.ExternalLabels = map[string]string{"cluster": ""} }, "invalid value")

	if _, err := NewRules(DefaultRulesOptions(), RulesDeps{}, nil, nil); err == nil || !strings.Contains(err.Error(), "no AlertSink") {
		t.Errorf("NewRules without deps = %v", err)
	}
	store := openRuleStore(t)
	deps := RulesDeps{Queryable: store.db, Appendable: store.db, Engine: store.engine, Alerts: &ruleSink{}}
	r, err := NewRules(DefaultRulesOptions(), deps, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Reload(context.Background(), nil); !errors.Is(err, ErrRulesNotRunning) {
		t.Errorf("Reload before Start = %v, want ErrRulesNotRunning", err)
	}
	// Log rules need a LogCounter.
	logOpts := DefaultRulesOptions()
	logOpts.RuleFiles = []string{"testdata/rules/logs.yml"}
	noLogs, err := NewRules(logOpts, deps, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := noLogs.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "logs.yml: 7:15:") || !strings.Contains(err.Error(), "log rules need a log store") {
		t.Errorf("Start with log rules and no LogCounter = %v", err)
	}
	if err := noLogs.Stop(context.Background()); err != nil {
		t.Error(err)
	}

	if err := r.Start(context.Background()); err != nil { // no files: nothing to evaluate
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); !errors.Is(err, ErrRulesNotRunning) {
		t.Errorf("second Start = %v", err)
	}
	if err := r.Reload(context.Background(), []string{"testdata/rules/[bad"}); err == nil || !strings.Contains(err.Error(), "glob") {
		t.Errorf("Reload with a malformed glob = %v", err)
	}
	if err := r.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := r.Reload(context.Background(), nil); !errors.Is(err, ErrRulesNotRunning) {
		t.Errorf("Reload after Stop = %v", err)
	}

	// One registry cannot hold two rule managers' metrics: an error, not a panic.
	reg := prometheus.NewRegistry()
	r1, err := NewRules(DefaultRulesOptions(), deps, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	defer r1.Stop(context.Background())
	if _, err := NewRules(DefaultRulesOptions(), deps, nil, reg); err == nil {
		t.Error("second NewRules on one registry succeeded")
	}
}

// The router is the AlertSink cmd/vigil wires in.
var _ AlertSink = (*Router)(nil)
