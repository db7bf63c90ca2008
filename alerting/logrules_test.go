package alerting

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/relabel"
	"github.com/prometheus/prometheus/promql/parser"
)

// fakeLogs is a LogCounter whose count the test sets; it records every call. It rejects log
// queries with unbalanced parentheses, as Vigil's log store would.
type fakeLogs struct {
	count atomic.Int64
	mu    sync.Mutex
	calls []logCall
}

type logCall struct {
	query      string
	start, end time.Time
}

func (f *fakeLogs) CountLogs(_ context.Context, query string, start, end time.Time) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, logCall{query, start, end})
	return f.count.Load(), nil
}

func (f *fakeLogs) ValidateLogQuery(q string) error {
	if strings.Count(q, "(") != strings.Count(q, ")") {
		return errors.New("unbalanced parentheses")
	}
	return nil
}

func (f *fakeLogs) lastCall() (logCall, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		return logCall{}, false
	}
	return f.calls[len(f.calls)-1], true
}

// A log rule counts the matching records over its window at every evaluation, fires after its
// `for:` with labels, templated annotations and a link to the records, and resolves when the
// count drops; a log recording rule writes the count to the metrics store.
func TestLogRulesFireAndResolve(t *testing.T) {
	t.Parallel()
	store := openRuleStore(t)
	sink := &ruleSink{}
	logs := &fakeLogs{}
	logs.count.Store(5)
	opts := DefaultRulesOptions()
	opts.RuleFiles = []string{"testdata/rules/logs.yml"}
	opts.ExternalURL = "https://vigil.example"
	team := relabel.DefaultRelabelConfig
	team.TargetLabel, team.Replacement, team.NameValidationScheme = "team", "checkout", model.UTF8Validation
	opts.AlertRelabelConfigs = []*relabel.Config{&team}
	startRules(t, opts, store, sink, logs)

	waitRules(t, 5*time.Second, "CheckoutErrors firing", func() bool { return len(sink.sent("CheckoutErrors")) > 0 })
	a := sink.sent("CheckoutErrors")[0]
	if want := (model.LabelSet{"alertname": "CheckoutErrors", "severity": "medium", "team": "checkout"}); !a.Labels.Equal(want) {
		t.Errorf("labels = %s, want %s (team from alert relabeling)", a.Labels, want)
	}
	if got := a.Annotations["summary"]; got != "5 checkout errors in 5m" {
		t.Errorf("summary = %q", got)
	}
	link, err := url.Parse(string(a.Annotations[LogsURLAnnotation]))
	if err != nil {
		t.Fatalf("logs_url: %v", err)
	}
	if a.GeneratorURL != link.String() {
		t.Errorf("GeneratorURL %q differs from logs_url %q", a.GeneratorURL, link)
	}
	if link.Host != "vigil.example" || link.Path != "/logs" || link.Query().Get("q") != "level:error AND service:checkout" {
		t.Errorf("logs_url = %s", link)
	}
	start, err1 := time.Parse(time.RFC3339, link.Query().Get("start"))
	end, err2 := time.Parse(time.RFC3339, link.Query().Get("end"))
	if err1 != nil || err2 != nil || end.Sub(start) < 5*time.Minute || end.Sub(start) > 5*time.Minute+5*time.Second {
		t.Errorf("logs_url window %s..%s (%v, %v), want the 5m window plus the time pending", start, end, err1, err2)
	}

	call, _ := logs.lastCall()
	if call.query != "level:error AND service:checkout" || call.end.Sub(call.start) != 5*time.Minute {
		t.Errorf("CountLogs(%q, %s, %s), want the rule's query over 5m", call.query, call.start, call.end)
	}
	if d := time.Since(call.end); d < 0 || d > 2*time.Second {
		t.Errorf("CountLogs window ends %s ago, want at the evaluation time", d)
	}

	waitRules(t, 5*time.Second, "recorded log count", func() bool {
		v := store.query(t, `checkout:log_errors:count5m`)
		return len(v) == 1 && v[0].F == 5
	})

	logs.count.Store(3) // not > 3
	waitRules(t, 5*time.Second, "CheckoutErrors resolved", func() bool {
		for _, a := range sink.sent("CheckoutErrors") {
			if resolvedWhenSent(a) {
				return true
			}
		}
		return false
	})
}

func TestLogCountOf(t *testing.T) {
	t.Parallel()
	p := parser.NewParser(parser.Options{})
	f := func(expr string, want logCount, wantLog bool, wantErr string) {
		t.Helper()
		e, err := p.ParseExpr(expr)
		if err != nil {
			t.Fatalf("parse %s: %v", expr, err)
		}
		got, isLog, err := logCountOf(e)
		if isLog != wantLog {
			t.Errorf("%s: reads logs = %v, want %v", expr, isLog, wantLog)
		}
		if wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), wantErr) {
				t.Errorf("%s: error %v, want %q", expr, err, wantErr)
			}
			return
		}
		if err != nil {
			t.Errorf("%s: %v", expr, err)
		}
		if got != want {
			t.Errorf("%s: %+v, want %+v", expr, got, want)
		}
	}
	q := "level:error AND service:checkout"
	f(`up == 0`, logCount{}, false, "")
	f(`count_over_time(up[5m]) > 1`, logCount{}, false, "")
	f(`count_over_time({__logs__="level:error AND service:checkout"}[5m]) > 10`, logCount{q, 5 * time.Minute, parser.GTR, 10}, true, "")
	f(`(count_over_time({__logs__="level:error AND service:checkout"}[1h])) <= 2`, logCount{q, time.Hour, parser.LTE, 2}, true, "")
	f(`count_over_time({__logs__="*"}[30s])`, logCount{"*", 30 * time.Second, 0, 0}, true, "")
	f(`sum(rate({__logs__="x"}[5m])) > 10`, logCount{}, true, "count_over_time")
	f(`count_over_time({__logs__="x"}[5m]) > bool 10`, logCount{}, true, "count_over_time")
	f(`count_over_time({__logs__="x"}[5m]) > up`, logCount{}, true, "count_over_time")
	f(`count_over_time({__logs__="x", job="a"}[5m]) > 1`, logCount{}, true, "no other label matcher")
	f(`count_over_time({__logs__=~"x.*"}[5m]) > 1`, logCount{}, true, "must be =")
	f(`count_over_time({__logs__="x"}[5m] offset 1m) > 1`, logCount{}, true, "offset")
	f(`up and count_over_time({__logs__="x"}[5m]) > 1`, logCount{}, true, "count_over_time")

	keep := func(op parser.ItemType, v float64) bool { return logCount{op: op, threshold: 10}.keep(v) }
	for _, c := range []struct {
		op   parser.ItemType
		v    float64
		want bool
	}{
		{0, 0, true}, {parser.GTR, 11, true}, {parser.GTR, 10, false}, {parser.GTE, 10, true},
		{parser.LSS, 9, true}, {parser.LTE, 11, false}, {parser.EQLC, 10, true}, {parser.NEQ, 10, false},
	} {
		if got := keep(c.op, c.v); got != c.want {
			t.Errorf("%s %v 10 = %v, want %v", c.op, c.v, got, c.want)
		}
	}
}
