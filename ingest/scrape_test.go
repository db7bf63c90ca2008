package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/labels"
	promtsdb "github.com/prometheus/prometheus/tsdb"
)

func TestScraperScrapesStaticTargetIntoTheStore(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprint(w, "# TYPE batch_jobs_total counter\nbatch_jobs_total{queue=\"a\"} 42\n")
	}))
	defer target.Close()
	u, _ := url.Parse(target.URL)

	db, err := promtsdb.Open(t.TempDir(), nil, nil, promtsdb.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	s, err := NewScraper(db, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(fmt.Sprintf(`
global:
  scrape_interval: 200ms
  scrape_timeout: 100ms
scrape_configs:
  - job_name: batch
    static_configs:
      - targets: [%q]
    metric_relabel_configs:
      - source_labels: [queue]
        target_label: queue_name
`, u.Host), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ApplyConfig(cfg); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Error(err)
		}
	}()

	want := map[string]float64{
		`{__name__="up", instance="` + u.Host + `", job="batch"}`:                                          1,
		`{__name__="batch_jobs_total", instance="` + u.Host + `", job="batch", queue="a", queue_name="a"}`: 42,
	}
	var got map[string]float64
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		got = latestValues(t, db)
		ok := true
		for k, v := range want {
			ok = ok && got[k] == v
		}
		if ok {
			break
		}
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (have %v)", k, got[k], v, got)
		}
	}
	if active := s.Targets().TargetsActive()["batch"]; len(active) != 1 {
		t.Errorf("active targets of job batch = %d, want 1", len(active))
	}
}

// latestValues returns the newest float sample of every series in db.
func latestValues(t *testing.T, db *promtsdb.DB) map[string]float64 {
	t.Helper()
	q, err := db.Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	out := map[string]float64{}
	ss := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+"))
	for ss.Next() {
		it := ss.At().Iterator(nil)
		for it.Next() != 0 {
			_, v := it.At()
			out[ss.At().Labels().String()] = v
		}
	}
	if err := ss.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
