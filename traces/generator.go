package traces

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/storage"
)

// MetricsAppendable is where the generator writes span metrics and service-graph series:
// Prometheus's storage.AppendableV2 (Vigil's metrics store is one). Each flush takes one
// appender, appends every series with the flush time and commits; the generator keeps
// nothing the appender returns. It must be safe for concurrent use with other writers. A
// failed commit loses nothing: the state is cumulative and the next flush writes it again.
type MetricsAppendable interface {
	AppenderV2(ctx context.Context) storage.AppenderV2
}

var _ MetricsAppendable = storage.AppendableV2(nil)

// GeneratorOptions configures span metrics and the service graph.
type GeneratorOptions struct {
	// FlushInterval is how often the cumulative state is written to the metrics store.
	FlushInterval time.Duration
	// MaxSeries caps the label sets of span metrics and, separately, the edges of the
	// service graph. Spans past it are counted in one overflow series
	// (otel_metric_overflow="true", as the spanmetrics connector does) and in
	// vigil_traces_generator_overflow_total.
	MaxSeries int
	// DurationBucketsMs are the upper bounds, in milliseconds, of the span duration
	// histogram (the spanmetrics connector's defaults).
	DurationBucketsMs []float64
	// ServiceGraphBucketsSeconds are the bounds of the service-graph latency histograms
	// (Tempo's defaults).
	ServiceGraphBucketsSeconds []float64
	// ServiceGraphWait is how long a client or server span waits for its other half.
	ServiceGraphWait time.Duration
	// MaxPendingEdges bounds the half-edges waiting; spans past it are dropped from the
	// graph (traces_service_graph_dropped_spans_total).
	MaxPendingEdges int
}

// DefaultGeneratorOptions returns the documented defaults.
func DefaultGeneratorOptions() GeneratorOptions {
	return GeneratorOptions{
		FlushInterval:              15 * time.Second,
		MaxSeries:                  10_000,
		DurationBucketsMs:          []float64{2, 4, 6, 8, 10, 50, 100, 200, 400, 800, 1000, 1400, 2000, 5000, 10_000, 15_000},
		ServiceGraphBucketsSeconds: []float64{0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8},
		ServiceGraphWait:           10 * time.Second,
		MaxPendingEdges:            10_000,
	}
}

// Validate reports the first option that cannot work.
func (o GeneratorOptions) Validate() error {
	switch {
	case o.FlushInterval <= 0:
		return errors.New("flush interval must be positive")
	case o.MaxSeries <= 0:
		return errors.New("max series must be positive")
	case len(o.DurationBucketsMs) == 0 || !slices.IsSorted(o.DurationBucketsMs):
		return errors.New("duration buckets must be a non-empty increasing list")
	case len(o.ServiceGraphBucketsSeconds) == 0 || !slices.IsSorted(o.ServiceGraphBucketsSeconds):
		return errors.New("service graph buckets must be a non-empty increasing list")
	case o.ServiceGraphWait <= 0:
		return errors.New("service graph wait must be positive")
	case o.MaxPendingEdges <= 0:
		return errors.New("max pending edges must be positive")
	}
	return nil
}

// Generator derives RED metrics (the OpenTelemetry spanmetrics connector's) and service
// graph edges (Tempo metrics-generator's) from every span it observes, keeps them as
// cumulative state in memory, and flushes that state into a MetricsAppendable every
// FlushInterval. It is a SpanObserver: set it as Options.Observer of the DB. Safe for
// concurrent use. Start, then Stop (which flushes a last time).
type Generator struct {
	opts GeneratorOptions
	app  MetricsAppendable
	log  *slog.Logger
	now  func() time.Time

	mu    sync.Mutex
	spans map[spanSeriesKey]*spanSeries
	graph serviceGraph

	overflow  *prometheus.CounterVec
	flushFail prometheus.Counter

	stop chan struct{}
	done chan struct{}
}

// NewGenerator returns a generator writing into app.
func NewGenerator(app MetricsAppendable, opts GeneratorOptions, log *slog.Logger, reg prometheus.Registerer) (*Generator, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("new span metrics generator: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	g := &Generator{
		opts:  opts,
		app:   app,
		log:   log,
		now:   time.Now,
		spans: map[spanSeriesKey]*spanSeries{},
		graph: newServiceGraph(),
		overflow: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_traces_generator_overflow_total",
			Help: "Spans counted in the overflow series because the generator's series cap was reached, by generator (span_metrics, service_graph).",
		}, []string{"generator"}),
		flushFail: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_traces_generator_flush_failures_total",
			Help: "Span-metrics flushes the metrics store refused.",
		}),
	}
	if reg != nil {
		reg.MustRegister(g.overflow, g.flushFail)
	}
	return g, nil
}

// ObserveSpans implements SpanObserver.
func (g *Generator) ObserveSpans(spans []Span) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	for i := range spans {
		s := &spans[i]
		g.observeSpanMetrics(s)
		g.graph.observe(g, s, now)
	}
}

// Start runs the flush loop in the background.
func (g *Generator) Start(context.Context) error {
	g.stop, g.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(g.done)
		t := time.NewTicker(g.opts.FlushInterval)
		defer t.Stop()
		for {
			select {
			case <-g.stop:
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), g.opts.FlushInterval)
				if err := g.Flush(ctx); err != nil {
					g.log.Warn("Span metrics not flushed; retrying at the next interval", "err", err)
				}
				cancel()
			}
		}
	}()
	return nil
}

// Stop ends the flush loop and flushes a last time within ctx.
func (g *Generator) Stop(ctx context.Context) error {
	if g.stop != nil {
		close(g.stop)
		<-g.done
		g.stop = nil
	}
	return g.Flush(ctx)
}

// Flush writes the current cumulative state, stamped now, in one commit.
func (g *Generator) Flush(ctx context.Context) error {
	now := g.now()
	g.mu.Lock()
	g.graph.expire(g, now)
	var w seriesWriter
	w.t = now.UnixMilli()
	g.writeSpanMetrics(&w)
	g.graph.write(g, &w)
	g.mu.Unlock()

	app := g.app.AppenderV2(ctx)
	for _, s := range w.out {
		_, err := app.Append(0, s.labels, 0, w.t, s.value, nil, nil, s.opts)
		var partial *storage.AppendPartialError
		if err != nil && !errors.As(err, &partial) { // a refused exemplar does not matter
			_ = app.Rollback()
			g.flushFail.Inc()
			return fmt.Errorf("flush span metrics: append %s: %w", s.labels, err)
		}
	}
	if err := app.Commit(); err != nil {
		g.flushFail.Inc()
		return fmt.Errorf("flush span metrics: commit %d samples: %w", len(w.out), err)
	}
	return nil
}
