package alerting

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/alert"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	promtsdb "github.com/prometheus/prometheus/tsdb"
)

// ruleStore is a real Prometheus TSDB and engine, as Vigil's metrics store embeds them.
type ruleStore struct {
	db     *promtsdb.DB
	engine *promql.Engine
}

func openRuleStore(t *testing.T) *ruleStore {
	t.Helper()
	db, err := promtsdb.Open(t.TempDir(), nil, nil, promtsdb.DefaultOptions(), nil)
	if err != nil {
		t.Fatalf("open tsdb: %v", err)
	}
	engine := promql.NewEngine(promql.EngineOpts{
		MaxSamples:    1_000_000,
		Timeout:       10 * time.Second,
		LookbackDelta: 5 * time.Minute,
	})
	t.Cleanup(func() {
		if err := engine.Close(); err != nil {
			t.Errorf("close engine: %v", err)
		}
		if err := db.Close(); err != nil {
			t.Errorf("close tsdb: %v", err)
		}
	})
	return &ruleStore{db: db, engine: engine}
}

// add writes one float sample at now.
func (s *ruleStore) add(t *testing.T, v float64, kv ...string) {
	t.Helper()
	app := s.db.AppenderV2(context.Background())
	if _, err := app.Append(0, labels.FromStrings(kv...), 0, time.Now().UnixMilli(), v, nil, nil, storage.AOptions{}); err != nil {
		t.Fatalf("append: %v", err)
	}
	if err := app.Commit(); err != nil {
		t.Fatalf("commit: %v", err)
	}
}

// query runs an instant PromQL query at now.
func (s *ruleStore) query(t *testing.T, q string) promql.Vector {
	t.Helper()
	qry, err := s.engine.NewInstantQuery(context.Background(), s.db, nil, q, time.Now())
	if err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
	defer qry.Close()
	res := qry.Exec(context.Background())
	if res.Err != nil {
		t.Fatalf("query %s: %v", q, res.Err)
	}
	v, err := res.Vector()
	if err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
	return v
}

// ruleSink is an AlertSink that keeps a copy of every alert it is sent.
type ruleSink struct {
	mu     sync.Mutex
	alerts []alert.Alert
}

func (s *ruleSink) PutAlerts(_ context.Context, alerts ...*alert.Alert) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range alerts {
		s.alerts = append(s.alerts, *a)
	}
	return nil
}

// sent returns the alerts sent so far with the given alertname.
func (s *ruleSink) sent(name string) []alert.Alert {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []alert.Alert
	for _, a := range s.alerts {
		if string(a.Labels["alertname"]) == name {
			out = append(out, a)
		}
	}
	return out
}

// resolvedWhenSent tells a resolved alert from a firing one whose EndsAt (its ValidUntil)
// has since passed: a resolved alert ends no later than it was sent (UpdatedAt).
func resolvedWhenSent(a alert.Alert) bool { return !a.EndsAt.After(a.UpdatedAt) }

// waitRules polls cond until it holds or timeout passes.
func waitRules(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startRules starts rule evaluation over store and stops it when the test ends.
func startRules(t *testing.T, opts RulesOptions, store *ruleStore, sink AlertSink, logs LogCounter) *Rules {
	t.Helper()
	r, err := NewRules(opts, RulesDeps{
		Queryable:  store.db,
		Appendable: store.db,
		Engine:     store.engine,
		Alerts:     sink,
		Logs:       logs,
	}, ruleTestLogger(t), nil)
	if err != nil {
		t.Fatalf("NewRules: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := r.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	if err := r.Start(context.Background()); err != nil {
		t.Fatalf("start: %v", err)
	}
	return r
}

func ruleTestLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test", t.Name())
	}
	return nil
}

func writeRuleFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.TrimLeft(text, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
}

func describeAlert(a alert.Alert) string {
	return fmt.Sprintf("labels=%s annotations=%s startsAt=%s endsAt=%s generator=%s",
		a.Labels, a.Annotations, a.StartsAt.Format(time.RFC3339Nano), a.EndsAt.Format(time.RFC3339Nano), a.GeneratorURL)
}
