package alerting

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"sync"
	"time"

	vmetrics "github.com/VictoriaMetrics/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
	v1 "github.com/prometheus/prometheus/web/api/v1"
)

// Rules evaluates Prometheus rule files with Prometheus's rules.Manager: alerting rules go to
// the AlertSink, recording rules and the ALERTS series to the AppendableV2. Its methods are
// safe for concurrent use.
type Rules struct {
	opts    RulesOptions
	deps    RulesDeps
	log     *slog.Logger
	parser  ruleParser
	metrics rulesMetrics

	manager    *rules.Manager
	cancelEval context.CancelFunc // aborts evaluations in flight, once Stop has begun
	runDone    chan struct{}      // closed when manager.Run returns

	mu    sync.Mutex // serialises Start, Reload and Stop
	state rulesState
	files []string // the files of the rule set running now
}

type rulesState int

const (
	rulesNew rulesState = iota
	rulesRunning
	rulesStopped
)

// ErrRulesNotRunning is returned by Reload before Start or after Stop, and by Start after Start.
var ErrRulesNotRunning = errors.New("rule evaluation is not running")

// NewRules builds the rule manager; nothing is loaded or evaluated before Start. The rule
// manager's metrics (prometheus_rule_*) are registered with reg (a private registry if nil);
// registering them twice with one registry is an error. log may be nil.
func NewRules(opts RulesOptions, deps RulesDeps, log *slog.Logger, reg prometheus.Registerer) (*Rules, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("new rules: invalid options: %w", err)
	}
	if err := deps.validate(); err != nil {
		return nil, fmt.Errorf("new rules: missing dependencies: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	if opts.Metrics == nil {
		opts.Metrics = vmetrics.NewSet()
	}
	r := &Rules{
		opts:    opts,
		deps:    deps,
		log:     log,
		parser:  ruleParser{Parser: parser.NewParser(parser.Options{EnableExperimentalFunctions: opts.EnableExperimentalFunctions}), logs: deps.Logs},
		metrics: newRulesMetrics(opts.Metrics),
		runDone: make(chan struct{}),
	}
	var extURL *url.URL
	if opts.ExternalURL != "" {
		u, err := url.Parse(opts.externalURL())
		if err != nil { // Validate parsed it already
			return nil, fmt.Errorf("new rules: external URL: %w", err)
		}
		extURL = u
	}
	// Evaluations get their own context: the manager outlives the ctx of any one call, and
	// Stop cancels it only if shutting down takes too long.
	evalCtx, cancel := context.WithCancel(context.Background())
	r.cancelEval = cancel
	checked := &checkedRegisterer{Registerer: reg}
	r.manager = rules.NewManager(&rules.ManagerOptions{
		ExternalURL:            extURL,
		QueryFunc:              r.logQueryFunc(rules.EngineQueryFunc(deps.Engine, deps.Queryable)),
		NotifyFunc:             r.notify,
		Context:                evalCtx,
		AppendableV2:           deps.Appendable,
		Queryable:              deps.Queryable,
		Logger:                 log.With("component", "rule manager"),
		Metrics:                rules.NewGroupMetrics(checked),
		OutageTolerance:        opts.OutageTolerance,
		ForGracePeriod:         opts.ForGracePeriod,
		ResendDelay:            opts.ResendDelay,
		DefaultRuleQueryOffset: func() time.Duration { return opts.QueryOffset },
		Parser:                 r.parser,
	})
	if checked.err != nil {
		cancel()
		return nil, fmt.Errorf("new rules: register rule manager metrics: %w", checked.err)
	}
	return r, nil
}

// Start loads the rule files of RulesOptions.RuleFiles and starts evaluating them. A file that
// does not load is an error naming the file, line and reason; nothing is then evaluated.
func (r *Rules) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state != rulesNew {
		return fmt.Errorf("start rules: %w", ErrRulesNotRunning)
	}
	if err := r.load(ctx, r.opts.RuleFiles); err != nil {
		return fmt.Errorf("start rules: %w", err)
	}
	r.state = rulesRunning
	go func() {
		defer close(r.runDone)
		r.manager.Run()
	}()
	r.log.Info("rule evaluation started", "files", len(r.files))
	return nil
}

// Reload replaces the rule set with the files matching globs. If any file does not load, the
// reload is refused with the file, line and reason, and the rules running now keep running.
// Groups that did not change keep their state; changed groups carry over the state of their
// alerts, as in Prometheus.
func (r *Rules) Reload(ctx context.Context, globs []string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state != rulesRunning {
		return fmt.Errorf("reload rules: %w", ErrRulesNotRunning)
	}
	if err := r.load(ctx, globs); err != nil {
		r.metrics.reloadFailures.Inc()
		return fmt.Errorf("reload rules: %w", err)
	}
	r.metrics.reloads.Inc()
	return nil
}

// Stop stops evaluation, waiting for evaluations in flight. If ctx ends first, they are
// cancelled, Stop still waits for them to return, and returns ctx's error.
func (r *Rules) Stop(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	defer r.cancelEval()
	if r.state != rulesRunning {
		r.state = rulesStopped
		return nil
	}
	r.state = rulesStopped
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		r.manager.Stop()
		<-r.runDone
	}()
	select {
	case <-stopped:
		return nil
	case <-ctx.Done():
		r.cancelEval()
		<-stopped
		return fmt.Errorf("stop rules: %w", ctx.Err())
	}
}

// RulesRetriever serves the rule groups and alerting rules to Prometheus's HTTP API
// (GET /api/v1/rules and /api/v1/alerts). It is valid before Start (no groups) and after Stop.
func (r *Rules) RulesRetriever() v1.RulesRetriever { return r.manager }

// Files returns the rule files of the rule set running now, sorted.
func (r *Rules) Files() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.files)
}

// load checks every file matching globs and, if all load, makes them the running rule set.
func (r *Rules) load(ctx context.Context, globs []string) error {
	files, err := expandRuleGlobs(globs)
	if err != nil {
		return err
	}
	if err := r.checkFiles(ctx, files); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("load rule files: %w", err)
	}
	ext := labels.FromMap(r.opts.ExternalLabels)
	if err := r.manager.Update(r.opts.EvaluationInterval, files, ext, r.opts.externalURL(), nil); err != nil {
		// checkFiles parsed them a moment ago: a file changed in between.
		return fmt.Errorf("load rule files (changed while loading?): %w", err)
	}
	r.files = files
	return nil
}

// checkedRegisterer turns the rule manager's MustRegister into an error NewRules returns.
type checkedRegisterer struct {
	prometheus.Registerer
	err error
}

func (c *checkedRegisterer) MustRegister(cs ...prometheus.Collector) {
	for _, col := range cs {
		if err := c.Register(col); err != nil {
			c.err = errors.Join(c.err, err)
		}
	}
}
