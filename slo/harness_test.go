package slo

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/storage"
	promtsdb "github.com/prometheus/prometheus/tsdb"
)

// store is a real Prometheus TSDB and engine, as Vigil's metrics store embeds them, taking
// samples in any order (synthetic history is written before rules are evaluated over it).
type store struct {
	db     *promtsdb.DB
	engine *promql.Engine
}

func openStore(t testing.TB) *store {
	t.Helper()
	opts := promtsdb.DefaultOptions()
	opts.OutOfOrderTimeWindow = (60 * 24 * time.Hour).Milliseconds()
	db, err := promtsdb.Open(t.TempDir(), nil, nil, opts, nil)
	if err != nil {
		t.Fatalf("open tsdb: %v", err)
	}
	db.DisableCompactions()
	engine := promql.NewEngine(promql.EngineOpts{MaxSamples: 50_000_000, Timeout: time.Minute, LookbackDelta: 5 * time.Minute})
	t.Cleanup(func() {
		if err := engine.Close(); err != nil {
			t.Errorf("close engine: %v", err)
		}
		if err := db.Close(); err != nil {
			t.Errorf("close tsdb: %v", err)
		}
	})
	return &store{db: db, engine: engine}
}

// series is one synthetic series: value(t) is its value at t (a counter's running total).
type series struct {
	labels labels.Labels
	value  func(t time.Time) float64
}

// write appends every series at every step in [from, to].
func (s *store) write(t *testing.T, from, to time.Time, step time.Duration, ss ...series) {
	t.Helper()
	app := s.db.AppenderV2(context.Background())
	n := 0
	for ts := from; !ts.After(to); ts = ts.Add(step) {
		for _, x := range ss {
			if _, err := app.Append(0, x.labels, 0, ts.UnixMilli(), x.value(ts), nil, nil, storage.AOptions{}); err != nil {
				t.Fatalf("append %s: %v", x.labels, err)
			}
			n++
		}
		if n > 50_000 {
			if err := app.Commit(); err != nil {
				t.Fatalf("commit: %v", err)
			}
			app, n = s.db.AppenderV2(context.Background()), 0
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatalf("commit: %v", err)
	}
}

// counter is a counter starting at 0 that grows by perStep(t) at every sample after start.
// It must be written once, in time order.
func counter(ls labels.Labels, start time.Time, perStep func(t time.Time) float64) series {
	var total float64
	return series{labels: ls, value: func(t time.Time) float64 {
		if t.After(start) {
			total += perStep(t)
		}
		return total
	}}
}

// loadGroups writes rule-file bytes and loads them with Prometheus's rule manager, whose
// groups the tests evaluate at chosen times.
func (s *store) loadGroups(t *testing.T, yml []byte) map[string]*rules.Group {
	t.Helper()
	file := filepath.Join(t.TempDir(), "slo-rules.yml")
	if err := os.WriteFile(file, yml, 0o600); err != nil {
		t.Fatal(err)
	}
	m := rules.NewManager(&rules.ManagerOptions{
		AppendableV2: s.db,
		Queryable:    s.db,
		QueryFunc:    rules.EngineQueryFunc(s.engine, s.db),
		NotifyFunc:   func(context.Context, string, ...*rules.Alert) {},
		Context:      context.Background(),
	})
	groups, errs := m.LoadGroups(time.Minute, labels.EmptyLabels(), "", nil, false, file)
	if len(errs) > 0 {
		t.Fatalf("load generated rules: %v", errs)
	}
	byName := map[string]*rules.Group{}
	for _, g := range groups {
		byName[g.Name()] = g
		// The manager restores `for` state on its first run, and writes no ALERTS series
		// before; these groups start from nothing.
		for _, r := range g.AlertingRules() {
			r.SetRestored(true)
		}
	}
	return byName
}

// evalAll evaluates every group at ts.
func evalAll(groups map[string]*rules.Group, ts time.Time) {
	for _, g := range groups {
		g.Eval(context.Background(), ts)
	}
}

func (s *store) query(t *testing.T, q string, ts time.Time) promql.Vector {
	t.Helper()
	qry, err := s.engine.NewInstantQuery(context.Background(), s.db, nil, q, ts)
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

// writeSpecs writes spec files into a directory and returns a glob for them.
func writeSpecs(t *testing.T, files map[string]string) (dir string) {
	t.Helper()
	dir = t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func mustLoad(t *testing.T, files map[string]string) *Set {
	t.Helper()
	dir := writeSpecs(t, files)
	set, err := Load(context.Background(), []string{filepath.Join(dir, "*.yml")})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return set
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}
