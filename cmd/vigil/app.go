package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"time"

	vmetrics "github.com/VictoriaMetrics/metrics"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/vigilhq/vigil/ingest"
	"github.com/vigilhq/vigil/internal/httpserver"
	"github.com/vigilhq/vigil/internal/lifecycle"
	"github.com/vigilhq/vigil/internal/selfmetrics"
	"github.com/vigilhq/vigil/web"
)

// app is one running Vigil: every component, built in dependency order.
type app struct {
	cli      cli
	log      *slog.Logger
	logLevel *slog.LevelVar
	reg      *selfmetrics.Registry
	set      *vmetrics.Set // the wiring's own metrics (reloads, store sizes)
	mgr      *lifecycle.Manager
	dir      *dataDir
	front    *httpserver.Server // the main HTTP listener
	auth     *authWiring        // who may use the listeners, and their TLS
	// admission bounds the memory of ingest requests in flight (429 past it).
	admission *ingest.Admission
	otlp      *ingest.OTLPServer
	metrics   *metricsWiring
	traces    *tracesWiring
	logs      *logsWiring
	alerting  *alertingWiring
	slo       *sloWiring
	forward   *forwardWiring // forward.otlp: the tees ingest writes through
	// dashboards serves the UI's dashboard files (web.dashboards_dir).
	dashboards *web.Dashboards

	mu        sync.Mutex // serialises reloads and guards cfg
	cfg       Config
	reloaders []reloader
}

// reloader applies the reloadable part of a new configuration; an error refuses the reload.
type reloader struct {
	name  string
	apply func(ctx context.Context, cfg Config) error
}

func newApp(c cli, cfg Config, log *slog.Logger, level *slog.LevelVar) (*app, error) {
	dir, err := openDataDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	a := &app{
		cli:      c,
		cfg:      cfg,
		log:      log,
		logLevel: level,
		reg:      selfmetrics.New(),
		mgr:      lifecycle.New(log),
		dir:      dir,
	}
	a.set = a.reg.NewSet()
	for _, name := range storeDirs {
		if name == "metrics" {
			continue // the metrics store reports its own size once open
		}
		size := selfmetrics.NewDirSize(dir.store(name), 30*time.Second)
		a.set.NewGauge(fmt.Sprintf(`vigil_store_size_bytes{store=%q}`, name), func() float64 { return float64(size.Bytes()) })
	}
	a.reloaders = append(a.reloaders, reloader{"log_level", func(_ context.Context, cfg Config) error {
		lvl, err := parseLogLevel(cfg.LogLevel)
		a.logLevel.Set(lvl)
		return err
	}})
	if a.auth, err = newAuthWiring(a, cfg); err != nil {
		return nil, errors.Join(usageError{err}, dir.Close())
	}
	a.reloaders = append(a.reloaders, reloader{"auth", a.auth.reload})
	if a.admission, err = a.newAdmission(cfg); err != nil {
		return nil, errors.Join(usageError{err}, dir.Close())
	}

	// Stores come first, then ingest, then alerting and SLOs, then the UI: each later issue
	// adds its component here in that order.
	// The forwarder's queues open before the stores and close after them: the stores' ingest
	// writes through its tees.
	a.forward = newForwardWiring(a)
	for _, c := range a.forward.components() {
		a.mgr.Add(c)
	}
	a.reloaders = append(a.reloaders, reloader{"forward.otlp", a.forward.reload})
	a.metrics = &metricsWiring{a: a}
	for _, c := range a.metrics.components() {
		a.mgr.Add(c)
	}
	a.reloaders = append(a.reloaders, reloader{"metrics.scrape_configs", a.metrics.reloadScrape})
	a.reloaders = append(a.reloaders, reloader{"remote_write", a.metrics.remote.reload})
	a.traces = &tracesWiring{a: a, metrics: a.metrics}
	for _, c := range a.traces.components() {
		a.mgr.Add(c)
	}
	a.logs = &logsWiring{a: a}
	for _, c := range a.logs.components() {
		a.mgr.Add(c)
	}
	// SLOs write the rule file that the rule manager, started after them, loads.
	a.slo = &sloWiring{a: a, metrics: a.metrics}
	for _, c := range a.slo.components() {
		a.mgr.Add(c)
	}
	a.reloaders = append(a.reloaders, reloader{"slo", a.slo.reload})
	a.alerting = &alertingWiring{a: a, metrics: a.metrics, logs: a.logs, extraRuleFiles: []string{a.slo.rulesFile()}}
	for _, c := range a.alerting.components() {
		a.mgr.Add(c)
	}
	a.reloaders = append(a.reloaders, reloader{"alerting", a.alerting.reload})
	otlpOpts := ingest.OTLPOptions{
		GRPCAddr:        cfg.OTLPGRPCListen,
		HTTPAddr:        cfg.OTLPHTTPListen,
		MaxRequestBytes: int64(cfg.OTLP.MaxRequestSize),
	}
	a.auth.otlpOptions(&otlpOpts)
	a.admitOTLP(&otlpOpts)
	a.otlp = ingest.NewOTLPServer(otlpOpts, a.reg.NewSet(), log)
	a.mgr.Add(lifecycle.Component{Name: "otlp", Start: a.otlp.Start, Stop: a.otlp.Stop, Failed: a.otlp.Failed()})

	if a.dashboards, err = web.NewDashboards(cfg.dashboardsDir(), log); err != nil {
		return nil, errors.Join(err, dir.Close())
	}
	a.front = httpserver.New("main", cfg.HTTPListen, a.router(), log)
	a.auth.serveTLS(a.front)
	return a, nil
}

// router is the main HTTP server's routes.
func (a *app) router() chi.Router {
	r := chi.NewRouter()
	r.Use(httpserver.Instrument("main", a.reg.NewSet()))
	r.Use(a.auth.middleware()) // every route below, by the scope mainRule names
	a.auth.routes(r)           // the UI's /login and /logout
	r.Get("/healthz", health)
	r.Get("/-/healthy", health) // Prometheus's spelling, for probes written for it
	r.Get("/readyz", a.ready)
	r.Get("/-/ready", a.ready)
	r.Method("GET", "/metrics", a.reg.Handler())
	// Go's profiler, as Prometheus serves it, for finding where CPU and memory go.
	r.Mount("/debug", middleware.Profiler())
	r.Post("/-/reload", a.reloadHTTP)
	r.Put("/-/reload", a.reloadHTTP)
	r.Group(func(r chi.Router) {
		r.Use(a.whenReady)
		// Ingest routes are registered before the API mount; chi prefers the exact paths.
		// Each ingest route is gated by the admission limit (429 when ingest is at its memory).
		metricsMax, logsMax, tracesMax := int64(a.cfg.Metrics.MaxRequestSize), int64(a.cfg.Logs.MaxRequestSize), int64(a.cfg.Traces.MaxRequestSize)
		r.Method("POST", "/api/v1/write", a.admit("remote_write", metricsMax, &a.metrics.remoteWrite))
		r.Method("POST", "/api/v1/import/prometheus", a.admit("import", metricsMax, &a.metrics.importText))
		r.Method("POST", "/api/v1/otlp/v1/metrics", a.admit("otlp_http", metricsMax, &a.metrics.otlpHTTP))
		// Alertmanager's API v2 (amtool, Prometheus servers sending alerts) and Vigil's
		// alert-group endpoints; /api/v1/alerts and /api/v1/rules stay Prometheus's.
		r.Handle("/api/v2/*", &a.alerting.api)
		r.Handle("/api/v1/alerts/groups", &a.alerting.api)
		r.Handle("/api/v1/alerts/groups/*", &a.alerting.api)
		r.Handle("/api/v1/alerts/notifications", &a.alerting.api)
		// Logs: ingest (JSON lines, Loki push, Elasticsearch bulk under /es) and the query API.
		r.Method("POST", "/api/v1/logs", a.admit("jsonlines", logsMax, &a.logs.jsonLines))
		r.Method("POST", "/loki/api/v1/push", a.admit("loki", logsMax, &a.logs.loki))
		r.Mount("/es", a.admit("es_bulk", logsMax, &a.logs.es))
		r.Handle("/api/v1/logs/*", a.logQueries(&a.logs.api))
		r.Handle("/api/v1/slos", &a.slo.api)
		r.Handle("/api/v1/slos/*", &a.slo.api)
		// Dashboards: files in web.dashboards_dir (reads need read, saves and deletes admin).
		r.Handle(web.DashboardsPrefix, a.dashboards)
		r.Handle(web.DashboardsPrefix+"/*", a.dashboards)
		// Traces: Zipkin v2 ingest and the Jaeger query API (full paths), plus OTLP JSON by id.
		r.Method("POST", "/api/v2/spans", a.admit("zipkin", tracesMax, &a.traces.zipkin))
		traceQueries := a.traceQueries(&a.traces.jaeger)
		for _, p := range []string{"/api/services", "/api/services/*", "/api/operations", "/api/traces",
			"/api/traces/*", "/api/dependencies", "/api/v1/traces/*"} {
			r.Handle(p, traceQueries)
		}
		r.Handle("/api/v1/*", &a.metrics.api)
		r.Handle("/*", web.Handler())
	})
	return r
}

// otlpBody wraps an OTLP/HTTP handler served on the main port with the OTLP listener's body
// handling (decompression, size limit).
func (a *app) otlpBody(signal string, h http.Handler) http.Handler {
	return ingest.OTLPHTTPBody(signal, int64(a.cfg.Metrics.MaxRequestSize), a.set)(h)
}

// run serves until ctx ends or a component fails, then shuts down within the configured
// timeout. The main HTTP listener opens before every component, so /readyz can answer during
// a long WAL replay, and closes before them, so nothing new arrives while stores flush.
func (a *app) run(ctx context.Context) error {
	defer a.dir.Close()
	if err := a.front.Start(); err != nil {
		return err
	}
	// The front door is already listening; listing it lets Wait notice if it dies.
	frontFailed := a.front.Err()

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reloadsDone := make(chan struct{})
	defer func() { <-reloadsDone }()
	reloadCtx, stopReloads := context.WithCancel(ctx)
	defer stopReloads()
	go func() {
		defer close(reloadsDone)
		for {
			select {
			case <-reloadCtx.Done():
				return
			case <-hup:
				if err := a.reload(reloadCtx); err != nil {
					a.log.Error("reload on SIGHUP refused", "err", err)
				}
			}
		}
	}()

	var runErr error
	if err := a.mgr.Start(ctx); err != nil {
		runErr = err
	} else {
		a.log.Info("Vigil is ready", "http", a.front.Addr().String(),
			"otlp_grpc", a.otlp.GRPCAddr().String(), "otlp_http", a.otlp.HTTPAddr().String())
		select {
		case err := <-frontFailed:
			runErr = err
		case err := <-a.waitComponents(ctx):
			runErr = err
		}
	}
	stopReloads()

	a.log.Info("shutting down", "timeout", a.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Duration(a.cfg.ShutdownTimeout))
	defer cancel()
	frontErr := a.front.Shutdown(sctx)
	stopErr := a.mgr.Stop(sctx)
	if err := errors.Join(runErr, frontErr, stopErr); err != nil {
		return err
	}
	a.log.Info("stopped cleanly")
	return nil
}

func (a *app) waitComponents(ctx context.Context) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- a.mgr.Wait(ctx) }()
	return ch
}

// reload re-reads the configuration file (with the same flags on top) and applies what can
// change at run time. A file that does not load changes nothing.
//
// Like Prometheus's, a reload first waits until every component has started: their start-up
// reads the configuration Vigil began with, which a reload must not replace underneath them.
func (a *app) reload(ctx context.Context) error {
	for waiting := a.mgr.NotReady(); len(waiting) > 0; waiting = a.mgr.NotReady() {
		if strings.HasSuffix(waiting[0], "(stopping)") {
			return errors.New("Vigil is stopping")
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("Vigil is still starting (%s): %w", strings.Join(waiting, ", "), ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	ok := a.set.GetOrCreateGauge("vigil_config_last_reload_successful", nil)
	cfg, err := a.cli.load()
	if err == nil {
		for _, r := range a.reloaders {
			if err = r.apply(ctx, cfg); err != nil {
				err = fmt.Errorf("reload %s: %w", r.name, err)
				break
			}
		}
	}
	if err != nil {
		ok.Set(0)
		return err
	}
	for _, key := range restartOnlyChanges(a.cfg, cfg) {
		a.log.Warn("config key changed but needs a restart to take effect", "key", key)
	}
	a.cfg = cfg
	ok.Set(1)
	a.set.GetOrCreateGauge("vigil_config_last_reload_success_timestamp_seconds", nil).Set(float64(time.Now().Unix()))
	a.log.Info("configuration reloaded", "file", a.cli.configFile)
	return nil
}

// restartOnlyChanges names the keys that differ between two configurations but are read only
// at start-up.
func restartOnlyChanges(old, cur Config) []string {
	var keys []string
	for key, changed := range map[string]bool{
		"data_dir":              old.DataDir != cur.DataDir,
		"http_listen":           old.HTTPListen != cur.HTTPListen,
		"otlp_grpc_listen":      old.OTLPGRPCListen != cur.OTLPGRPCListen,
		"otlp_http_listen":      old.OTLPHTTPListen != cur.OTLPHTTPListen,
		"log_format":            old.LogFormat != cur.LogFormat,
		"memory_limit":          old.MemoryLimit != cur.MemoryLimit,
		"min_free_disk":         old.MinFreeDisk != cur.MinFreeDisk,
		"otlp.max_request_size": old.OTLP.MaxRequestSize != cur.OTLP.MaxRequestSize,
		"self_metrics.interval": old.SelfMetrics.Interval != cur.SelfMetrics.Interval,
		"auth.session_ttl":      old.Auth.SessionTTL != cur.Auth.SessionTTL,
		"tls":                   old.TLS != cur.TLS,
		"web.dashboards_dir":    old.Web.DashboardsDir != cur.Web.DashboardsDir,
		"alerting.cluster":      !reflect.DeepEqual(old.Alerting.Cluster, cur.Alerting.Cluster),
	} {
		if changed {
			keys = append(keys, key)
		}
	}
	return keys
}
