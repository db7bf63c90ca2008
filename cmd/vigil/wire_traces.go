package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vigilhq/vigil/ingest"
	"github.com/vigilhq/vigil/internal/lifecycle"
	"github.com/vigilhq/vigil/traces"
)

// tracesWiring is the span store, the span-metrics generator feeding the metrics store, and
// the trace ingest (OTLP, Zipkin) and query (Jaeger) endpoints.
type tracesWiring struct {
	a       *app
	metrics *metricsWiring

	jaeger, zipkin lateHandler

	gen *traces.Generator
	db  *traces.DB
}

// components: the generator starts before the store that feeds it and, stopping in reverse,
// flushes the last span metrics after the store has closed and before the TSDB does.
func (w *tracesWiring) components() []lifecycle.Component {
	return []lifecycle.Component{
		{Name: "span-metrics", Start: w.startGenerator, Stop: func(ctx context.Context) error { return w.gen.Stop(ctx) }},
		{Name: "traces-store", Start: w.startStore, Stop: func(context.Context) error { return w.db.Close() }},
	}
}

func (w *tracesWiring) startGenerator(ctx context.Context) error {
	a := w.a
	opts := traces.DefaultGeneratorOptions()
	opts.FlushInterval = time.Duration(a.cfg.Traces.SpanMetrics.FlushInterval)
	opts.MaxSeries = a.cfg.Traces.SpanMetrics.MaxSeries
	gen, err := traces.NewGenerator(w.metrics.db, opts, a.log.With("component", "span-metrics"), a.reg.Prometheus())
	if err != nil {
		return fmt.Errorf("set up span metrics: %w", err)
	}
	if err := gen.Start(ctx); err != nil {
		return err
	}
	w.gen = gen
	return nil
}

func (w *tracesWiring) startStore(context.Context) error {
	a := w.a
	cfg := a.cfg.Traces
	opts := traces.DefaultOptions()
	opts.Retention = time.Duration(cfg.Retention)
	opts.MaxBytes = int64(cfg.RetentionSize)
	opts.Observer = w.gen
	db, err := traces.Open(a.dir.store("traces"), opts, a.log.With("component", "traces-store"), a.reg.Prometheus())
	if err != nil {
		return fmt.Errorf("open traces store: %w", err)
	}
	set := a.reg.NewSet()
	iopts := ingest.DefaultTracesIngestOptions()
	iopts.MaxFutureSkew = time.Duration(cfg.MaxFutureSkew)
	iopts.MaxRequestBytes = int64(cfg.MaxRequestSize)
	iopts.MaxAttributesPerSpan = cfg.MaxAttributesPerSpan
	iopts.MaxAttributeValueLength = int(cfg.MaxAttributeValueLength)
	iopts.MaxSpansPerRequest = cfg.MaxSpansPerRequest
	sink := a.forward.f.TraceSink(db) // spans also go to forward.otlp
	otlp, err := ingest.NewOTLPTraces(sink, iopts, set, a.log.With("component", "otlp-traces"))
	if err != nil {
		return errors.Join(err, db.Close())
	}
	zipkin, err := ingest.NewZipkin(sink, iopts, set, a.log.With("component", "zipkin"))
	if err != nil {
		return errors.Join(err, db.Close())
	}
	otlp.RegisterGRPC(a.otlp.GRPC())
	a.otlp.HandleHTTP("traces", "/v1/traces", otlp)
	w.zipkin.set(zipkin)
	w.jaeger.set(db.JaegerHandler())
	w.db = db
	return nil
}
