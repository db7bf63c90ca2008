package main

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/vigilhq/vigil/ingest"
	"github.com/vigilhq/vigil/internal/lifecycle"
	"github.com/vigilhq/vigil/logs"
)

// logsWiring is the log store, its query API and the log ingest endpoints (JSON lines, OTLP,
// Loki push, Elasticsearch bulk).
type logsWiring struct {
	a *app

	api, jsonLines, loki, es lateHandler

	store *logs.Store
}

func (w *logsWiring) components() []lifecycle.Component {
	return []lifecycle.Component{
		{Name: "logs-store", Start: w.start, Stop: func(context.Context) error { return w.store.Close() }},
	}
}

func (w *logsWiring) start(context.Context) error {
	a := w.a
	cfg := a.cfg.Logs
	opts := logs.DefaultOptions()
	opts.Retention = time.Duration(cfg.Retention)
	opts.MaxTotalBytes = int64(cfg.RetentionSize)
	opts.PartitionDuration = time.Duration(cfg.Partition)
	opts.FlushInterval = time.Duration(cfg.FlushInterval)
	opts.MaxLineBytes = int(cfg.MaxLineSize)
	opts.Metrics = a.reg.NewSet()
	store, err := logs.Open(a.dir.store("logs"), opts, a.log.With("component", "logs-store"), a.reg.Prometheus())
	if err != nil {
		return fmt.Errorf("open logs store: %w", err)
	}
	set := a.reg.NewSet()
	iopts := ingest.DefaultLogsIngestOptions()
	iopts.MaxLineBytes = int(cfg.MaxLineSize)
	iopts.MaxRequestBytes = int64(cfg.MaxRequestSize)
	iopts.MaxLinesPerRequest = cfg.MaxLinesPerRequest
	sink := a.forward.f.LogSink(store) // every protocol's lines also go to forward.otlp
	otlp := ingest.NewOTLPLogs(sink, iopts, set, a.log.With("component", "otlp-logs"))
	plogotlp.RegisterGRPCServer(a.otlp.GRPC(), otlp)
	a.otlp.HandleHTTP("logs", "/v1/logs", otlp)
	w.jsonLines.set(ingest.NewJSONLinesHandler(sink, iopts, set, a.log.With("component", "jsonlines")))
	w.loki.set(ingest.NewLokiPushHandler(sink, iopts, set, a.log.With("component", "loki")))
	w.es.set(ingest.NewElasticsearchHandler(sink, iopts, set, a.log.With("component", "es-bulk")))
	w.api.set(store.APIHandler())
	w.store = store
	return nil
}

// logCounter lets log-query alerting rules count matching lines in the log store.
type logCounter struct{ w *logsWiring }

// CountLogs counts the lines matching query with start < t <= end.
func (c logCounter) CountLogs(ctx context.Context, query string, start, end time.Time) (int64, error) {
	res, err := c.w.store.Query(ctx, logs.Query{Q: query, Start: start.Add(time.Nanosecond), End: end, Limit: 1})
	if err != nil {
		return 0, err
	}
	return int64(res.Total), nil
}
