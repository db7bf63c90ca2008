package alerting

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	vmetrics "github.com/VictoriaMetrics/metrics"
	"github.com/prometheus/alertmanager/alert"
	"github.com/prometheus/alertmanager/dispatch"
	"github.com/prometheus/alertmanager/eventrecorder"
	"github.com/prometheus/alertmanager/featurecontrol"
	"github.com/prometheus/alertmanager/inhibit"
	"github.com/prometheus/alertmanager/nflog"
	"github.com/prometheus/alertmanager/notify"
	"github.com/prometheus/alertmanager/provider/mem"
	"github.com/prometheus/alertmanager/silence"
	"github.com/prometheus/alertmanager/timeinterval"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
)

// ErrInvalidAlert is returned (wrapped) by PutAlerts for alerts that can never be accepted,
// such as invalid label names; the HTTP edge maps it to 400.
var ErrInvalidAlert = errors.New("invalid alert")

// RouterOptions configures a Router. The zero value of each field picks the default shown.
type RouterOptions struct {
	// ExternalURL is Vigil's UI as users reach it; notifications link to <ExternalURL>/alerts.
	// Default "http://localhost:9700".
	ExternalURL string
	// Retention of expired silences and of notification-log entries. Default 120h, as
	// Alertmanager's --data.retention.
	Retention time.Duration
	// MaintenanceInterval between garbage collection and snapshots of silences and the
	// notification log (a final snapshot is always written by Stop). Default 15m.
	MaintenanceInterval time.Duration
	// AlertGCInterval between sweeps of resolved alerts. Default 30m.
	AlertGCInterval time.Duration
	// DispatchMaintenanceInterval between sweeps of empty aggregation groups. Default 30s.
	DispatchMaintenanceInterval time.Duration
	// EscalationInterval between evaluations of escalation policies. Default 30s.
	EscalationInterval time.Duration
	// MaxSilences and MaxSilenceSizeBytes limit silences; 0 is unlimited.
	MaxSilences         int
	MaxSilenceSizeBytes int
	// HistorySize is how many delivery attempts GET /api/v1/alerts/notifications keeps.
	// Default 256.
	HistorySize int
	// Defaults fills the receivers of the default configuration.
	Defaults DefaultReceivers
	// Metrics receives Vigil's own vigil_alerting_* metrics. Default: a private set.
	Metrics *vmetrics.Set
	// Cluster makes the router one of a highly available group (cluster.go); the zero value
	// is a router alone.
	Cluster ClusterOptions
}

func (o *RouterOptions) setDefaults() {
	if o.ExternalURL == "" {
		o.ExternalURL = "http://localhost:9700"
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Retention, 120*time.Hour)
	def(&o.MaintenanceInterval, 15*time.Minute)
	def(&o.AlertGCInterval, 30*time.Minute)
	def(&o.DispatchMaintenanceInterval, 30*time.Second)
	def(&o.EscalationInterval, 30*time.Second)
	if o.HistorySize <= 0 {
		o.HistorySize = 256
	}
	if o.Metrics == nil {
		o.Metrics = vmetrics.NewSet()
	}
	o.Cluster.setDefaults()
}

// Router routes alerts as Alertmanager does, with Alertmanager's own packages: the route tree
// and aggregation groups (dispatch), inhibition, silences, time intervals, the notification
// log and the notifiers. It adds escalation policies and acknowledgements, which Alertmanager
// lacks. Its state lives under one directory: silences and nflog (Alertmanager's snapshot
// formats) and acks.json.
type Router struct {
	dir     string
	opts    RouterOptions
	log     *slog.Logger
	set     *vmetrics.Set
	extURL  *url.URL
	history *notificationHistory
	acks    *ackStore

	alerts          *mem.Alerts
	silences        *silence.Silences
	silencer        *silence.Silencer
	nflog           *nflog.Log
	pipelineBuilder *notify.PipelineBuilder
	dispMetrics     *dispatch.DispatcherMetrics
	peer            *clusterPeer // nil without a cluster

	maintStop chan struct{}
	started0  time.Time      // for /api/v2/status's uptime
	bg        sync.WaitGroup // maintenance and escalation loops

	mu         sync.RWMutex // guards the fields below
	cfg        *routerConfig
	dispatcher *dispatch.Dispatcher
	inhibitor  *inhibit.Inhibitor
	stage      notify.RoutingStage
	started    bool
	stopped    bool
	escStop    context.CancelFunc
	esc        *escalator
}

// OpenRouter opens (creating it if needed) the router's state under dir and loads the
// default configuration; LoadConfig replaces it. Nothing is routed before Start. With
// opts.Cluster it also binds the gossip listener; Start joins the peers.
func OpenRouter(dir string, opts RouterOptions, log *slog.Logger, reg prometheus.Registerer) (_ *Router, err error) {
	opts.setDefaults()
	log = loggerOr(log)
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	ext, err := url.Parse(strings.TrimRight(opts.ExternalURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("parse external URL %q: %w", opts.ExternalURL, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create alerting dir %s: %w", dir, err)
	}
	r := &Router{
		dir:       dir,
		opts:      opts,
		log:       log,
		set:       opts.Metrics,
		extURL:    ext,
		history:   newNotificationHistory(opts.HistorySize),
		maintStop: make(chan struct{}),
		started0:  time.Now(),
	}
	if r.acks, err = openAckStore(filepath.Join(dir, "acks.json")); err != nil {
		return nil, err
	}
	if opts.Cluster.Enabled() {
		if r.peer, err = createClusterPeer(opts.Cluster, log, reg); err != nil {
			return nil, err
		}
		defer func() {
			if err != nil {
				err = errors.Join(err, r.peer.leave(context.Background()))
			}
		}()
	}
	r.nflog, err = nflog.New(nflog.Options{
		SnapshotFile: filepath.Join(dir, "nflog"),
		Retention:    opts.Retention,
		Logger:       log.With("component", "nflog"),
		Metrics:      reg,
	})
	if err != nil {
		return nil, fmt.Errorf("open notification log in %s: %w", dir, err)
	}
	if r.peer != nil {
		r.nflog.SetBroadcast(r.peer.addState("nfl", r.nflog, reg))
	}
	r.silences, err = silence.New(silence.Options{
		SnapshotFile: filepath.Join(dir, "silences"),
		Retention:    opts.Retention,
		Limits: silence.Limits{
			MaxSilences:         func() int { return opts.MaxSilences },
			MaxSilenceSizeBytes: func() int { return opts.MaxSilenceSizeBytes },
		},
		Logger:  log.With("component", "silences"),
		Metrics: reg,
	})
	if err != nil {
		return nil, fmt.Errorf("open silences in %s: %w", dir, err)
	}
	if r.peer != nil {
		r.silences.SetBroadcast(r.peer.addState("sil", r.silences, reg))
		r.acks.setBroadcast(r.peer.addState("vigil_ack", r.acks, reg))
	}
	r.silencer = silence.NewSilencer(r.silences, log, eventRecorder())
	flags := featurecontrol.NoopFlags{}
	r.alerts, err = mem.NewAlerts(context.Background(), opts.AlertGCInterval, 0, r.silencer, log, eventRecorder(), reg, flags)
	if err != nil {
		return nil, fmt.Errorf("create alert store: %w", err)
	}
	r.pipelineBuilder = notify.NewPipelineBuilder(reg, flags, eventRecorder())
	r.dispMetrics = dispatch.NewDispatcherMetrics(false, reg, flags)
	if err := r.LoadConfig(""); err != nil {
		r.alerts.Close()
		return nil, err
	}
	return r, nil
}

// LoadConfig loads an Alertmanager configuration file, with an optional `vigil:` section
// (escalation policies); "" loads the default configuration. A file that does not load is
// refused with its name, line and reason, and the running configuration stays.
func (r *Router) LoadConfig(path string) error { return r.LoadConfigWith(path, nil) }

// LoadConfigWith is LoadConfig with escalation policies given apart from the file (Vigil's
// own configuration), so that the Alertmanager file stays one that amtool check-config and
// Alertmanager itself accept. They join the file's own `vigil:` policies; names must differ.
func (r *Router) LoadConfigWith(path string, policies []EscalationPolicy) error {
	var (
		cfg *routerConfig
		err error
	)
	if path == "" {
		var data []byte
		if data, err = DefaultConfig(r.opts.Defaults); err == nil {
			cfg, err = parseRouterConfig(data, "<default alerting config>", policies...)
		}
	} else {
		cfg, err = loadRouterConfigFile(path, policies)
	}
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.started {
		if _, err := r.buildPipeline(cfg); err != nil { // refuse what Start would refuse
			return err
		}
		r.cfg = cfg
		return nil
	}
	return r.applyLocked(cfg)
}

// builtPipeline is the configuration-scoped part of the router, rebuilt on every load.
type builtPipeline struct {
	routes     *dispatch.Route
	stage      notify.RoutingStage
	intervener *timeinterval.Intervener
	inhibitor  *inhibit.Inhibitor
	dispatcher *dispatch.Dispatcher
}

// buildPipeline builds everything fallible of a configuration without touching the running one.
func (r *Router) buildPipeline(cfg *routerConfig) (*builtPipeline, error) {
	tmpl, err := buildTemplate(cfg.am.Templates, r.extURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidConfig, cfg.source, err)
	}
	routes := dispatch.NewRoute(cfg.am.Route, nil)
	used := map[string]bool{}
	routes.Walk(func(rt *dispatch.Route) { used[rt.RouteOpts.Receiver] = true })
	for _, p := range cfg.vigil.EscalationPolicies {
		for _, s := range p.Steps {
			used[s.Receiver] = true
		}
	}
	receivers, err := r.buildReceivers(cfg, used, tmpl)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidConfig, cfg.source, err)
	}
	intervals := make(map[string][]timeinterval.TimeInterval)
	for _, ti := range cfg.am.MuteTimeIntervals {
		intervals[ti.Name] = ti.TimeIntervals
	}
	for _, ti := range cfg.am.TimeIntervals {
		intervals[ti.Name] = ti.TimeIntervals
	}
	intervener := timeinterval.NewIntervener(intervals)
	inhibitor := inhibit.NewInhibitor(r.alerts, cfg.am.InhibitRules, r.log, eventRecorder())
	stage := r.pipelineBuilder.New(receivers, r.wait, inhibitor, r.silencer, intervener, r.nflog, r.pipelinePeer())
	// As Alertmanager's: a flush may last its group's interval plus this peer's wait.
	timeout := func(d time.Duration) time.Duration { return max(d, notify.MinTimeout) + r.wait() }
	disp := dispatch.NewDispatcher(r.alerts, routes, stage, intervener, timeout, r.opts.DispatchMaintenanceInterval,
		nil, r.log, eventRecorder(), r.dispMetrics, tmpl)
	return &builtPipeline{routes: routes, stage: stage, intervener: intervener, inhibitor: inhibitor, dispatcher: disp}, nil
}

// applyLocked swaps in a configuration in Alertmanager's order: stop the old inhibitor and
// dispatcher, start the new inhibitor and wait for it to load (so nothing that should be
// inhibited is sent), then the dispatcher. Callers hold r.mu.
func (r *Router) applyLocked(cfg *routerConfig) error {
	p, err := r.buildPipeline(cfg)
	if err != nil {
		return err
	}
	if r.inhibitor != nil {
		r.inhibitor.Stop()
	}
	if r.dispatcher != nil {
		r.dispatcher.Stop()
	}
	go p.inhibitor.Run()
	p.inhibitor.WaitForLoading()
	go p.dispatcher.Run(time.Now())
	p.dispatcher.WaitForLoading()
	r.cfg, r.inhibitor, r.dispatcher, r.stage = cfg, p.inhibitor, p.dispatcher, p.stage
	r.set.GetOrCreateGauge("vigil_alerting_config_last_load_success_timestamp_seconds", nil).Set(float64(time.Now().Unix()))
	return nil
}

// Start begins routing: maintenance of silences and the notification log, the dispatcher
// and inhibitor of the loaded configuration, and the escalation loop.
func (r *Router) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started || r.stopped {
		return errors.New("alerting router: already started or stopped")
	}
	r.bg.Go(func() {
		r.nflog.Maintenance(r.opts.MaintenanceInterval, filepath.Join(r.dir, "nflog"), r.maintStop, nil)
	})
	r.bg.Go(func() {
		r.silences.Maintenance(r.opts.MaintenanceInterval, filepath.Join(r.dir, "silences"), r.maintStop, nil)
	})
	if err := r.applyLocked(r.cfg); err != nil {
		close(r.maintStop)
		r.bg.Wait()
		r.stopped = true
		if r.peer != nil {
			err = errors.Join(err, r.peer.leave(ctx))
		}
		return err
	}
	if r.peer != nil {
		// Silences and log are registered: join, learn the peers' state. Until it settles
		// the pipeline's first stage holds notifications back.
		r.peer.start(func(settle func()) { r.bg.Go(settle) })
	}
	r.started = true
	escCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.escStop = cancel
	r.esc = newEscalator(r)
	r.bg.Go(func() { r.esc.run(escCtx, r.opts.EscalationInterval) })
	return nil
}

// Stop stops routing and writes final snapshots of silences, notification log and acks.
// In-flight notifications are cancelled. Safe to call more than once, and without Start.
func (r *Router) Stop(ctx context.Context) error {
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return nil
	}
	r.stopped = true
	wasStarted := r.started
	if r.escStop != nil {
		r.escStop()
	}
	if r.inhibitor != nil {
		r.inhibitor.Stop()
	}
	if r.dispatcher != nil {
		r.dispatcher.Stop()
	}
	r.mu.Unlock()

	r.alerts.Close()
	if r.peer != nil {
		// Not a failure of the stop: the peers notice the absence anyway, a little later.
		if err := r.peer.leave(ctx); err != nil {
			r.log.Warn("stop alerting router", "err", err)
		}
	}
	if wasStarted {
		close(r.maintStop)
	}
	done := make(chan struct{})
	go func() { r.bg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("stop alerting router: %w", ctx.Err())
	}
	return r.acks.save()
}

// PutAlerts accepts alerts (firing, or resolved with EndsAt set) as Alertmanager's API does:
// a missing StartsAt becomes now, a missing EndsAt makes the alert resolve after the
// configuration's resolve_timeout unless it is sent again. It does not keep the slice nor
// the alerts (it stores copies). Invalid alerts are refused with ErrInvalidAlert and the
// valid ones of the batch are still stored. Safe for concurrent use.
func (r *Router) PutAlerts(ctx context.Context, alerts ...*alert.Alert) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.RLock()
	resolveTimeout := time.Duration(r.cfg.am.Global.ResolveTimeout)
	r.mu.RUnlock()
	now := time.Now()
	valid := make([]*alert.Alert, 0, len(alerts))
	var invalid error
	for _, a := range alerts {
		if a == nil {
			continue
		}
		m := a.Alert
		m.Labels = m.Labels.Clone()
		m.Annotations = m.Annotations.Clone()
		for k, v := range m.Labels { // as Alertmanager's API: an empty label is no label
			if v == "" {
				delete(m.Labels, k)
			}
		}
		if m.StartsAt.IsZero() {
			m.StartsAt = now
			if !m.EndsAt.IsZero() {
				m.StartsAt = m.EndsAt
			}
		}
		timeout := a.Timeout
		if m.EndsAt.IsZero() {
			timeout = true
			m.EndsAt = now.Add(resolveTimeout)
		}
		if err := alert.Validate(&m); err != nil {
			invalid = errors.Join(invalid, fmt.Errorf("alert %s: %w", m.Labels, err))
			continue
		}
		updated := a.UpdatedAt
		if updated.IsZero() {
			updated = now
		}
		valid = append(valid, alert.New(m, updated, timeout))
	}
	r.set.GetOrCreateCounter("vigil_alerting_alerts_received_total").Add(len(valid))
	if invalid != nil {
		r.set.GetOrCreateCounter("vigil_alerting_alerts_invalid_total").Add(len(alerts) - len(valid))
	}
	if err := r.alerts.Put(ctx, valid...); err != nil {
		return fmt.Errorf("store alerts: %w", err)
	}
	if invalid != nil {
		return fmt.Errorf("%w: %w", ErrInvalidAlert, invalid)
	}
	return nil
}

// groups returns the dispatcher's aggregation groups.
func (r *Router) groups(ctx context.Context, rf func(*dispatch.Route) bool, af dispatch.AlertFilter) (dispatch.AlertGroups, map[model.Fingerprint][]string, error) {
	r.mu.RLock()
	d := r.dispatcher
	r.mu.RUnlock()
	if d == nil {
		return nil, nil, nil
	}
	return d.Groups(ctx, rf, af)
}

// current returns the running configuration and pipeline.
func (r *Router) current() (*routerConfig, notify.RoutingStage, *inhibit.Inhibitor) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.cfg, r.stage, r.inhibitor
}

func (r *Router) startTime() time.Time { return r.started0 }

// eventRecorder is Alertmanager's event recorder, off: its zero value records nothing.
func eventRecorder() eventrecorder.Recorder { return eventrecorder.Recorder{} }
