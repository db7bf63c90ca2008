package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	vmetrics "github.com/VictoriaMetrics/metrics"
	"github.com/prometheus/common/config"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/scrape"
	"github.com/prometheus/prometheus/storage/remote"

	"github.com/vigilhq/vigil/internal/lifecycle"
	"github.com/vigilhq/vigil/tsdb"
)

// remoteWiring connects the metrics store to other engines: remote_write forwards every
// sample the store commits, read from its WAL by Prometheus's own remote-storage queue
// managers (so a remote that is down is caught up from the WAL when it returns), and
// query.metrics_sources are read together with the store by PromQL.
type remoteWiring struct {
	a       *app
	metrics *metricsWiring

	// notify is set on the store as it opens, before anything appends (Prometheus sets the
	// hook without a lock); it wakes the WAL watchers once the remote storage exists.
	notify  walNotifier
	storage *remote.Storage
	// sourceMetrics counts the requests to query.metrics_sources, across reloads.
	sourceMetrics *vmetrics.Set
	// writing: remote_write has at least one queue, so feedRate has something to size.
	writing atomic.Bool
	stop    context.CancelFunc
	fed     sync.WaitGroup
}

type walNotifier struct {
	s atomic.Pointer[remote.Storage]
}

func (n *walNotifier) Notify() {
	if s := n.s.Load(); s != nil {
		s.Notify()
	}
}

// component starts after the store opens and before scraping.
func (w *remoteWiring) component() lifecycle.Component {
	return lifecycle.Component{Name: "remote-write", Start: w.start, Stop: w.stopStorage}
}

func (w *remoteWiring) start(ctx context.Context) error {
	a := w.a
	db := w.metrics.db
	// Prometheus's flush deadline (1m by default): how long Close waits for queued samples.
	flush := min(time.Minute, time.Duration(a.cfg.ShutdownTimeout)/2)
	w.sourceMetrics = a.reg.NewSet()
	w.storage = remote.NewStorage(a.log.With("component", "remote-write"), a.reg.Prometheus(), nil, db.Dir(), flush, scrapeManager{w.metrics}, false)
	if err := w.apply(a.cfg); err != nil {
		return errors.Join(err, w.storage.Close())
	}
	w.notify.s.Store(w.storage)
	feedCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	w.stop = stop
	w.fed.Add(1)
	go func() {
		defer w.fed.Done()
		w.feedRate(feedCtx, db)
	}()
	return nil
}

func (w *remoteWiring) stopStorage(context.Context) error {
	if w.storage == nil {
		return nil
	}
	w.stop()
	w.fed.Wait()
	w.notify.s.Store(nil)
	return w.storage.Close()
}

// reload applies a changed remote_write list (queues whose configuration is unchanged keep
// their place in the WAL) and query.metrics_sources.
func (w *remoteWiring) reload(_ context.Context, cfg Config) error {
	if w.storage == nil {
		return nil // not started yet: it will read the new configuration when it starts
	}
	return w.apply(cfg)
}

func (w *remoteWiring) apply(cfg Config) error {
	pc, err := cfg.RemoteWrite.PrometheusConfig()
	if err != nil {
		return fmt.Errorf("remote_write: %w", err)
	}
	sources, err := metricsSources(cfg.Query, w.sourceMetrics)
	if err != nil {
		return err
	}
	if err := w.storage.ApplyConfig(pc); err != nil {
		return fmt.Errorf("remote_write: %w", err)
	}
	w.writing.Store(len(pc.RemoteWriteConfigs) > 0)
	w.metrics.query.SetSources(sources)
	return nil
}

// metricsSources builds the query.metrics_sources clients; their requests are counted in set
// (nil: not counted).
func metricsSources(cfg QueryConfig, set *vmetrics.Set) ([]*tsdb.RemoteSource, error) {
	var out []*tsdb.RemoteSource
	for i, s := range cfg.MetricsSources {
		rt, err := config.NewRoundTripperFromConfig(s.HTTPClientConfig, "vigil-source-"+s.Name)
		if err != nil {
			return nil, fmt.Errorf("query.metrics_sources[%d] %s: %w", i, s.Name, err)
		}
		if len(s.Headers) > 0 {
			rt = headerRoundTripper{next: rt, headers: s.Headers}
		}
		if set != nil {
			rt = countingRoundTripper{next: rt, set: set, source: s.Name}
		}
		src, err := tsdb.NewRemoteSource(tsdb.RemoteSourceOptions{
			Name:         s.Name,
			URL:          s.URL,
			RoundTripper: rt,
			Timeout:      time.Duration(s.Timeout),
			ReadRecent:   s.ReadRecent,
		})
		if err != nil {
			return nil, fmt.Errorf("query.metrics_sources[%d]: %w", i, err)
		}
		out = append(out, src)
	}
	return out, nil
}

// headerRoundTripper adds a source's fixed headers (e.g. X-Scope-OrgID) to each request.
type headerRoundTripper struct {
	next    http.RoundTripper
	headers map[string]string
}

func (h headerRoundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h.headers {
		r.Header.Set(k, v)
	}
	return h.next.RoundTrip(r)
}

// countingRoundTripper counts a source's requests by outcome and times them:
// vigil_metrics_source_requests_total{source,result="ok"|"error"} (error: no answer or a
// status of 400 and above) and vigil_metrics_source_request_duration_seconds{source}.
type countingRoundTripper struct {
	next   http.RoundTripper
	set    *vmetrics.Set
	source string
}

func (c countingRoundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := c.next.RoundTrip(r)
	result := "ok"
	if err != nil || resp.StatusCode >= 400 {
		result = "error"
	}
	c.set.GetOrCreateCounter(fmt.Sprintf(`vigil_metrics_source_requests_total{source=%q,result=%q}`, c.source, result)).Inc()
	c.set.GetOrCreateHistogram(fmt.Sprintf(`vigil_metrics_source_request_duration_seconds{source=%q}`, c.source)).UpdateDuration(start)
	return resp, err
}

// feedRate tells the remote storage how many samples arrive and how recent they are. In
// Prometheus every append goes through the remote storage's appender too (a fanout), and
// its queue managers size their shards from that rate and from how far behind the newest
// sample they are; Vigil's writers append to the store alone, so the figures are read from
// the store every 10s (Prometheus's shard update interval) and handed over here.
func (w *remoteWiring) feedRate(ctx context.Context, db *tsdb.DB) {
	const every = 10 * time.Second
	last := db.SamplesAppended()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n := db.SamplesAppended()
		if !w.writing.Load() { // no queue to size: skip a loop over every sample appended
			last = n
			continue
		}
		app := w.storage.Appender(ctx)
		// The remote storage's appender only counts and tracks the newest timestamp: it
		// stores nothing, so one call per sample costs a counter increment.
		maxt := db.HeadMaxTime()
		for i := int64(0); i < int64(n-last); i++ {
			if _, err := app.Append(0, labels.EmptyLabels(), maxt, 0); err != nil {
				break
			}
		}
		if err := app.Commit(); err != nil {
			w.a.log.Debug("remote write rate", "err", err)
		}
		last = n
	}
}

// scrapeManager hands the scrape manager to the queue managers, which send the scraped
// targets' metric metadata along (metadata_config).
type scrapeManager struct{ m *metricsWiring }

func (s scrapeManager) Get() (*scrape.Manager, error) {
	if s.m.scraper == nil {
		return nil, errors.New("scrape manager not ready")
	}
	return s.m.scraper.Targets(), nil
}
