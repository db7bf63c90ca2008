package tsdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	promtsdb "github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/util/features"
)

// The contracts the ingest edge and the query side rely on.
var (
	_ storage.Appendable        = (*DB)(nil)
	_ storage.AppendableV2      = (*DB)(nil)
	_ storage.Queryable         = (*DB)(nil)
	_ storage.ChunkQueryable    = (*DB)(nil)
	_ storage.ExemplarQueryable = (*DB)(nil)
)

// DB is Vigil's metrics store: a Prometheus TSDB in one directory plus the
// PromQL engine that reads it. All methods are safe for concurrent use.
type DB struct {
	dir     string
	opts    Options
	log     *slog.Logger
	started time.Time

	db       *promtsdb.DB
	stats    *promtsdb.DBStats
	engine   *promql.Engine
	parser   parser.Parser
	features features.Collector
	gatherer prometheus.Gatherer
}

// Open opens (creating if needed) the store in dir, replaying its WAL, and
// starts Prometheus's background compaction and retention. Metrics of the
// embedded TSDB and engine are registered with reg; if reg is nil they go to a
// private registry. log may be nil.
func Open(dir string, opts Options, log *slog.Logger, reg prometheus.Registerer) (*DB, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("open metrics store %s: invalid options: %w", dir, err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	gatherer, reg := gathererFor(reg)
	feats := features.NewRegistry()
	stats := promtsdb.NewDBStats()

	popts := opts.promOptions()
	popts.FeatureRegistry = feats
	pdb, err := promtsdb.Open(dir, log.With("component", "tsdb"), reg, popts, stats)
	if err != nil {
		return nil, fmt.Errorf("open prometheus tsdb %s: %w", dir, err)
	}

	// Like Prometheus, the active-query log lives in the data directory; it
	// also bounds query concurrency.
	tracker, err := promql.NewActiveQueryTracker(dir, opts.QueryMaxConcurrency, log.With("component", "activeQueryTracker"))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open active query log in %s: %w", dir, err), pdb.Close())
	}

	p := parser.NewParser(parser.Options{EnableExperimentalFunctions: opts.EnableExperimentalFunctions})
	subqueryStep := opts.SubqueryStep.Milliseconds()
	engine := promql.NewEngine(promql.EngineOpts{
		Logger:                   log.With("component", "query engine"),
		Reg:                      reg,
		MaxSamples:               opts.QueryMaxSamples,
		Timeout:                  opts.QueryTimeout,
		ActiveQueryTracker:       tracker,
		LookbackDelta:            opts.LookbackDelta,
		NoStepSubqueryIntervalFn: func(int64) int64 { return subqueryStep },
		// Always on for regular PromQL since Prometheus v2.33.
		EnableAtModifier:     true,
		EnableNegativeOffset: true,
		FeatureRegistry:      feats,
		Parser:               p,
	})

	return &DB{
		dir:      dir,
		opts:     opts,
		log:      log,
		started:  time.Now(),
		db:       pdb,
		stats:    stats,
		engine:   engine,
		parser:   p,
		features: feats,
		gatherer: gatherer,
	}, nil
}

// gathererFor returns the Gatherer that sees what is registered with reg, and
// the Registerer to use. A nil reg becomes a private registry.
func gathererFor(reg prometheus.Registerer) (prometheus.Gatherer, prometheus.Registerer) {
	if reg == nil {
		r := prometheus.NewRegistry()
		return r, r
	}
	if g, ok := reg.(prometheus.Gatherer); ok {
		return g, reg
	}
	return prometheus.Gatherers{}, reg
}

// Close stops the engine's query log, compaction and the WAL. Callers must
// ensure no query or append is in flight.
func (d *DB) Close() error {
	var errs []error
	if err := d.engine.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close query engine: %w", err))
	}
	if err := d.db.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close prometheus tsdb %s: %w", d.dir, err))
	}
	return errors.Join(errs...)
}

// Appender returns a Prometheus appender. Nothing is visible or durable until
// Commit returns nil; after that the batch is in the WAL (see package doc).
// An Appender is not safe for concurrent use; take one per goroutine.
func (d *DB) Appender(ctx context.Context) storage.Appender { return d.db.Appender(ctx) }

// AppenderV2 returns Prometheus's newer appender, which remote.NewWriteHandler
// and the OTLP write handler take. Same durability as Appender.
func (d *DB) AppenderV2(ctx context.Context) storage.AppenderV2 { return d.db.AppenderV2(ctx) }

// ActiveSeries is the number of series in the head block: those written to recently, which
// hold memory (Mimir's "in-memory series").
func (d *DB) ActiveSeries() uint64 { return d.db.Head().NumSeries() }

// Querier returns a querier over samples in [mint, maxt] (milliseconds).
func (d *DB) Querier(mint, maxt int64) (storage.Querier, error) {
	q, err := d.db.Querier(mint, maxt)
	if err != nil {
		return nil, fmt.Errorf("open querier [%d, %d]: %w", mint, maxt, err)
	}
	return q, nil
}

// ChunkQuerier returns a querier over encoded chunks in [mint, maxt].
func (d *DB) ChunkQuerier(mint, maxt int64) (storage.ChunkQuerier, error) {
	q, err := d.db.ChunkQuerier(mint, maxt)
	if err != nil {
		return nil, fmt.Errorf("open chunk querier [%d, %d]: %w", mint, maxt, err)
	}
	return q, nil
}

// ExemplarQuerier returns a querier over the exemplar ring buffer.
func (d *DB) ExemplarQuerier(ctx context.Context) (storage.ExemplarQuerier, error) {
	q, err := d.db.ExemplarQuerier(ctx)
	if err != nil {
		return nil, fmt.Errorf("open exemplar querier: %w", err)
	}
	return q, nil
}

// Engine is the one PromQL engine of this store, configured from Options.
// Use it with d as the Queryable (rules, SLOs, the UI).
func (d *DB) Engine() *promql.Engine { return d.engine }

// SizeBytes is the on-disk size of blocks plus the head's WAL, WBL and
// memory-mapped chunks: the figure Prometheus's size-based retention uses.
func (d *DB) SizeBytes() int64 {
	size := d.db.Head().Size()
	for _, b := range d.db.Blocks() {
		size += b.Size()
	}
	return size
}
