package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	promconfig "github.com/prometheus/prometheus/config"
	v1 "github.com/prometheus/prometheus/web/api/v1"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"

	"github.com/vigilhq/vigil/ingest"
	"github.com/vigilhq/vigil/internal/buildinfo"
	"github.com/vigilhq/vigil/internal/lifecycle"
	"github.com/vigilhq/vigil/tsdb"
)

// metricsWiring is the metrics store and what reads and writes it: the Prometheus API,
// remote write, text import, OTLP metrics and scraping.
type metricsWiring struct {
	a *app

	api, remoteWrite, importText, otlpHTTP lateHandler

	db      *tsdb.DB
	otlp    *ingest.OTLPMetrics
	scraper *ingest.Scraper
	// query is what PromQL reads: the store merged with query.metrics_sources.
	query  *tsdb.Merged
	remote *remoteWiring
}

func (m *metricsWiring) storeOptions(cfg MetricsConfig) tsdb.Options {
	o := tsdb.DefaultOptions()
	o.RetentionTime = time.Duration(cfg.Retention)
	o.RetentionSize = int64(cfg.RetentionSize)
	o.OutOfOrderWindow = time.Duration(cfg.OutOfOrderWindow)
	o.MaxBlockDuration = 0 // derived from the retention, as Prometheus does
	o.EnableExemplars = cfg.MaxExemplars > 0
	o.MaxExemplars = cfg.MaxExemplars
	o.QueryTimeout = time.Duration(cfg.QueryTimeout)
	o.QueryMaxSamples = cfg.QueryMaxSamples
	o.QueryMaxConcurrency = cfg.QueryMaxConcurrency
	o.LookbackDelta = time.Duration(cfg.LookbackDelta)
	return o
}

func (m *metricsWiring) ingestOptions(cfg MetricsConfig) ingest.MetricsIngestOptions {
	o := ingest.DefaultMetricsIngestOptions()
	o.MaxRequestBytes = int64(cfg.MaxRequestSize)
	o.MaxSeriesPerRequest = cfg.MaxSeriesPerRequest
	o.MaxActiveSeries = cfg.MaxActiveSeries
	o.Registerer = m.a.reg.Prometheus()
	return o
}

// components returns, in start order, the metrics store (opening it replays its WAL) and the
// scraper. The OTLP metrics service is registered on the shared OTLP server as the store
// opens, which is before that server starts.
func (m *metricsWiring) components() []lifecycle.Component {
	m.remote = &remoteWiring{a: m.a, metrics: m}
	return []lifecycle.Component{
		{Name: "metrics-store", Start: m.startStore, Stop: m.stopStore},
		m.remote.component(),
		{Name: "scraper", Start: m.startScraper, Stop: func(ctx context.Context) error { return m.scraper.Stop(ctx) }},
	}
}

func (m *metricsWiring) startStore(context.Context) error {
	a := m.a
	cfg := a.cfg.Metrics
	db, err := tsdb.Open(a.dir.store("metrics"), m.storeOptions(cfg), a.log.With("component", "metrics-store"), a.reg.Prometheus())
	if err != nil {
		return fmt.Errorf("open metrics store: %w", err)
	}
	m.db = db
	db.NotifyWALWrites(&m.remote.notify)
	m.query = tsdb.NewMerged(db)
	set := a.reg.NewSet()
	set.NewGauge(`vigil_store_size_bytes{store="metrics"}`, func() float64 { return float64(db.SizeBytes()) })
	opts := m.ingestOptions(cfg)
	otlp, err := ingest.NewOTLPMetrics(db, opts, set, a.log.With("component", "otlp-metrics"))
	if err != nil {
		return errors.Join(err, db.Close())
	}
	m.otlp = otlp
	otlp.SetForwarder(a.forward.f) // OTLP metrics also go to forward.otlp (remote write: remote_write)
	pmetricotlp.RegisterGRPCServer(a.otlp.GRPC(), otlp)
	a.otlp.HandleHTTP("metrics", "/v1/metrics", otlp)
	m.otlpHTTP.set(a.otlpBody("metrics", otlp))
	// Prometheus's library registers its handler metrics once per registry: only the first
	// handler built gets the registerer.
	m.remoteWrite.set(ingest.NewRemoteWriteHandler(db, opts, set, a.log.With("component", "remote-write")))
	opts.Registerer = nil
	m.importText.set(ingest.NewImportHandler(db, opts, set, a.log.With("component", "import")))

	// Built here (nothing runs yet) so that the API's targets are there whenever it serves.
	if m.scraper, err = ingest.NewScraper(db, a.log.With("component", "scrape"), a.reg.Prometheus()); err != nil {
		return errors.Join(err, otlp.Close(), db.Close())
	}

	bi := buildinfo.Get()
	m.api.set(tsdb.ReportSources(db.APIHandler(tsdb.APIOptions{
		Version:   bi.Version,
		Revision:  bi.Commit,
		Branch:    bi.Branch,
		BuildDate: bi.BuildDate,
		GoVersion: bi.GoVersion,
		Gatherer:  a.reg.Prometheus(),
		Targets:   func(context.Context) v1.TargetRetriever { return m.scraper.Targets() },
		Rules:     a.alerting.rulesRetriever,
		Flags:     map[string]string{"storage.tsdb.path": a.dir.store("metrics")},
		// Target URLs in /targets are shown as this server sees them.
		GlobalURL: v1.GlobalURLOptions{
			ListenAddress: a.front.Addr().String(),
			Host:          a.front.Addr().String(),
			Scheme:        a.auth.scheme(),
		},
		Queryable: m.query,
	})))
	return nil
}

func (m *metricsWiring) stopStore(context.Context) error {
	var errs []error
	if m.otlp != nil {
		errs = append(errs, m.otlp.Close())
	}
	errs = append(errs, m.db.Close())
	return errors.Join(errs...)
}

func (m *metricsWiring) startScraper(ctx context.Context) error {
	a := m.a
	s := m.scraper
	pc, err := m.scrapeConfig(a.cfg)
	if err != nil {
		return err
	}
	if err := s.ApplyConfig(pc); err != nil {
		return err
	}
	return s.Start(ctx)
}

// reloadScrape applies a new configuration's scrape jobs.
func (m *metricsWiring) reloadScrape(_ context.Context, cfg Config) error {
	if m.scraper == nil {
		return nil // not started yet: it will read the new configuration when it starts
	}
	pc, err := m.scrapeConfig(cfg)
	if err != nil {
		return err
	}
	return m.scraper.ApplyConfig(pc)
}

// scrapeConfig is the user's scrape jobs plus job "vigil": Vigil scraping its own /metrics
// into its own TSDB, so it can dashboard and alert on itself with the same tools.
func (m *metricsWiring) scrapeConfig(cfg Config) (*promconfig.Config, error) {
	pc, err := cfg.Metrics.PrometheusConfig()
	if err != nil {
		return nil, fmt.Errorf("scrape configs: %w", err)
	}
	for _, sc := range pc.ScrapeConfigs {
		if sc.JobName == selfJob {
			return nil, fmt.Errorf("scrape job name %q is reserved for Vigil's own metrics", selfJob)
		}
	}
	self, err := promconfig.Load(fmt.Sprintf(`
scrape_configs:
  - job_name: %s
    scrape_interval: %s
    scrape_timeout: %s
    static_configs:
      - targets: [%q]
`, selfJob, cfg.SelfMetrics.Interval, min(cfg.SelfMetrics.Interval, cfg.Metrics.ScrapeTimeout), selfTarget(m.a.front.Addr())), slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, fmt.Errorf("self-scrape job: %w", err)
	}
	m.a.auth.selfScrape(self.ScrapeConfigs[0])
	pc.ScrapeConfigs = append(pc.ScrapeConfigs, self.ScrapeConfigs...)
	return pc, nil
}

const selfJob = "vigil"

// selfTarget is an address at which this process reaches its own main listener.
func selfTarget(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return addr.String()
	}
	ip := tcp.IP
	switch {
	case ip == nil || ip.IsUnspecified() && ip.To4() != nil:
		ip = net.IPv4(127, 0, 0, 1)
	case ip.IsUnspecified():
		ip = net.IPv6loopback
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(tcp.Port))
}
