package tsdb

import (
	"context"
	"fmt"
	"net/http"
	"runtime"

	"github.com/grafana/regexp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/route"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/notifications"
	v1 "github.com/prometheus/prometheus/web/api/v1"
)

// APIPrefix is the path prefix the API handler serves under.
const APIPrefix = "/api/v1"

// Prometheus's defaults for the remote-read endpoint the API always serves.
const (
	remoteReadSampleLimit      = 5e7
	remoteReadConcurrencyLimit = 10
	remoteReadMaxBytesInFrame  = 1 << 20
)

// APIOptions configures DB.APIHandler. The zero value serves an API with
// empty targets, rules and alerts, no CORS, admin endpoints off, always ready.
type APIOptions struct {
	// Build information for /api/v1/status/buildinfo. GoVersion defaults to
	// runtime.Version().
	Version, Revision, Branch, BuildUser, BuildDate, GoVersion string

	// Ready gates every endpoint: while it returns false they answer 503
	// "Service Unavailable" as Prometheus does during startup/shutdown.
	// nil means always ready (Open has already replayed the WAL).
	Ready func() bool

	// Flags is served by /api/v1/status/flags. nil serves {}.
	Flags map[string]string

	// Optional sources for targets, metadata, scrape pools, alertmanagers,
	// rules and alerts. Each is called per request; nil serves empty lists.
	Targets       func(context.Context) v1.TargetRetriever
	ScrapePools   func(context.Context) v1.ScrapePoolsRetriever
	Alertmanagers func(context.Context) v1.AlertmanagerRetriever
	Rules         func(context.Context) v1.RulesRetriever

	// Gatherer feeds status/tsdb (head chunk count), status/runtimeinfo and
	// status/self_metrics. nil uses the Registerer given to Open if it is also
	// a Gatherer (a *prometheus.Registry is).
	Gatherer prometheus.Gatherer

	// CORSOrigin is the regexp of origins allowed cross-origin reads.
	// nil sends no CORS headers at all (same-origin only).
	CORSOrigin *regexp.Regexp

	// GlobalURL rewrites target URLs in /targets (Prometheus's --web.listen-address
	// and --web.external-url).
	GlobalURL v1.GlobalURLOptions

	// EnableAdmin enables /api/v1/admin/tsdb/* (delete_series, snapshot, ...).
	EnableAdmin bool

	// Queryable is what queries, series and labels read (e.g. a *Merged with remote
	// sources). nil reads this store alone.
	Queryable storage.SampleAndChunkQueryable
}

// APIHandler returns Prometheus's HTTP API v1 over d, serving the full paths
// under /api/v1/ (e.g. /api/v1/query), so it can be mounted unchanged with
// chi's r.Handle("/api/v1/*", h) or http.ServeMux's Handle("/api/v1/", h).
// The remote-write and OTLP receivers are disabled (404): the ingest package
// owns those routes. Each call builds an independent handler.
func (d *DB) APIHandler(o APIOptions) http.Handler {
	gatherer := o.Gatherer
	if gatherer == nil {
		gatherer = d.gatherer
	}
	flags := o.Flags
	if flags == nil {
		flags = map[string]string{}
	}
	goVersion := o.GoVersion
	if goVersion == "" {
		goVersion = runtime.Version()
	}
	build := &v1.PrometheusVersion{
		Version:   o.Version,
		Revision:  o.Revision,
		Branch:    o.Branch,
		BuildUser: o.BuildUser,
		BuildDate: o.BuildDate,
		GoVersion: goVersion,
	}
	var q storage.SampleAndChunkQueryable = d
	if o.Queryable != nil {
		q = o.Queryable
	}
	api := v1.NewAPI(
		d.engine,
		q,
		nil, // no appender: the write receivers stay disabled
		d,
		orEmpty(o.ScrapePools, v1.ScrapePoolsRetriever(emptyTargets{})),
		orEmpty(o.Targets, v1.TargetRetriever(emptyTargets{})),
		orEmpty(o.Alertmanagers, v1.AlertmanagerRetriever(emptyAlertmanagers{})),
		func() config.Config { return config.DefaultConfig },
		flags,
		o.GlobalURL,
		readyGate(o.Ready),
		adminStats{d},
		d.dir,
		o.EnableAdmin,
		false, // search API: experimental in Prometheus, off by default
		0,
		d.log.With("component", "api"),
		orEmpty(o.Rules, v1.RulesRetriever(emptyRules{})),
		remoteReadSampleLimit,
		remoteReadConcurrencyLimit,
		remoteReadMaxBytesInFrame,
		false,        // not an agent
		o.CORSOrigin, // nil is safe: Origin headers are stripped below
		func() (v1.RuntimeInfo, error) { return d.runtimeInfo(gatherer) },
		build,
		func() []notifications.Notification { return []notifications.Notification{} },
		func() (<-chan notifications.Notification, func(), bool) { return nil, func() {}, false },
		gatherer,
		nil,        // registerer: remote-read metrics would be registered once per call
		nil,        // default stats renderer
		false, nil, // remote-write receiver off
		false, false, false, // OTLP receiver off
		d.opts.LookbackDelta,
		false, // type and unit labels
		false, // append metadata
		nil,   // default error codes
		d.features,
		v1.OpenAPIOptions{Version: o.Version},
		d.parser,
		false, // query cost: experimental
		d.opts.QueryTimeout,
	)

	router := route.New().WithPrefix(APIPrefix)
	api.Register(router)
	if o.CORSOrigin != nil {
		return router
	}
	// Prometheus's SetCORS dereferences the regexp only when a request carries
	// an Origin header, so without one no CORS headers are ever sent.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") != "" {
			r = r.Clone(r.Context())
			r.Header.Del("Origin")
		}
		router.ServeHTTP(w, r)
	})
}

// readyGate adapts a readiness probe to the API's handler wrapper.
func readyGate(ready func() bool) func(http.HandlerFunc) http.HandlerFunc {
	return func(next http.HandlerFunc) http.HandlerFunc {
		if ready == nil {
			return next
		}
		return func(w http.ResponseWriter, r *http.Request) {
			if !ready() {
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprint(w, "Service Unavailable")
				return
			}
			next(w, r)
		}
	}
}

// orEmpty returns f, or a func returning empty when f is nil.
func orEmpty[T any](f func(context.Context) T, empty T) func(context.Context) T {
	if f != nil {
		return f
	}
	return func(context.Context) T { return empty }
}
