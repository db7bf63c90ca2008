package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/discovery"
	_ "github.com/prometheus/prometheus/discovery/dns"  // dns_sd_configs
	_ "github.com/prometheus/prometheus/discovery/file" // file_sd_configs
	_ "github.com/prometheus/prometheus/discovery/http" // http_sd_configs
	"github.com/prometheus/prometheus/scrape"
	"github.com/prometheus/prometheus/storage"
)

// Scraper pulls metrics from targets with Prometheus's own discovery and scrape managers, so
// scrape_configs (static, file, DNS and HTTP discovery, relabelling, intervals, timeouts, the
// `up` and scrape_* series) behave exactly as in Prometheus. Only the discovery mechanisms a
// single node needs are compiled in; the cloud ones would add dozens of dependencies.
type Scraper struct {
	log    *slog.Logger
	disc   *discovery.Manager
	scrape *scrape.Manager
	cancel context.CancelFunc
	wg     sync.WaitGroup
	failed chan error
}

// NewScraper builds the managers; nothing runs until Start. app receives every scraped
// sample; it must be safe for concurrent use.
func NewScraper(app storage.AppendableV2, log *slog.Logger, reg prometheus.Registerer) (*Scraper, error) {
	sdMetrics, err := discovery.CreateAndRegisterSDMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("register discovery metrics: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	disc := discovery.NewManager(ctx, log.With("component", "scrape discovery"), reg, sdMetrics, discovery.Name("scrape"))
	if disc == nil {
		cancel()
		return nil, errors.New("create scrape discovery manager")
	}
	// Prometheus batches target updates every 5 s; a single node has few targets, so one second
	// makes new targets appear sooner at no real cost.
	opts := &scrape.Options{DiscoveryReloadInterval: model.Duration(time.Second)}
	sm, err := scrape.NewManager(opts, log.With("component", "scrape"), nil, nil, app, reg)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("create scrape manager: %w", err)
	}
	return &Scraper{log: log, disc: disc, scrape: sm, cancel: cancel, failed: make(chan error, 1)}, nil
}

// ApplyConfig (re)configures the scrape jobs of cfg, which must come from config.Load so that
// Prometheus has validated it and filled in its defaults. Safe to call while running.
func (s *Scraper) ApplyConfig(cfg *config.Config) error {
	scfgs, err := cfg.GetScrapeConfigs()
	if err != nil {
		return fmt.Errorf("scrape configs: %w", err)
	}
	if err := s.scrape.ApplyConfig(cfg); err != nil {
		return fmt.Errorf("apply scrape config: %w", err)
	}
	sd := make(map[string]discovery.Configs, len(scfgs))
	for _, sc := range scfgs {
		sd[sc.JobName] = sc.ServiceDiscoveryConfigs
	}
	if err := s.disc.ApplyConfig(sd); err != nil {
		return fmt.Errorf("apply discovery config: %w", err)
	}
	return nil
}

// Start runs discovery and scraping in the background.
func (s *Scraper) Start(context.Context) error {
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		_ = s.disc.Run() // returns when its context is cancelled by Stop
	}()
	go func() {
		defer s.wg.Done()
		if err := s.scrape.Run(s.disc.SyncCh()); err != nil {
			s.failed <- fmt.Errorf("scrape manager: %w", err)
		}
	}()
	return nil
}

// Failed reports the scrape manager dying.
func (s *Scraper) Failed() <-chan error { return s.failed }

// Targets is what the Prometheus API's /targets endpoint reads.
func (s *Scraper) Targets() *scrape.Manager { return s.scrape }

// Stop ends scraping: the last scrape in flight is committed or dropped as a whole.
func (s *Scraper) Stop(ctx context.Context) error {
	s.scrape.Stop()
	s.cancel()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop scraper: %w", ctx.Err())
	}
}
