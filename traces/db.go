package traces

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// ErrClosed is returned by every method of a closed DB.
var ErrClosed = errors.New("traces: store is closed")

// DB is the span store. Safe for concurrent use.
type DB struct {
	dir  string
	opts Options
	log  *slog.Logger
	pdb  *pebble.DB

	names *catalog

	// closing guards pdb against use after Close: writers and readers hold the read lock.
	closing sync.RWMutex
	closed  bool

	stop chan struct{}
	done chan struct{}

	m *dbMetrics
}

type dbMetrics struct {
	spansWritten   prometheus.Counter
	writeFailures  prometheus.Counter
	bucketsDropped *prometheus.CounterVec
}

func newDBMetrics(reg prometheus.Registerer, db *DB) *dbMetrics {
	m := &dbMetrics{
		spansWritten: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_traces_spans_written_total", Help: "Spans made durable in the trace store.",
		}),
		writeFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_traces_write_failures_total", Help: "WriteSpans calls that failed.",
		}),
		bucketsDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_traces_retention_dropped_hours_total", Help: "Hour buckets of spans deleted by retention, by reason (age, size).",
		}, []string{"reason"}),
	}
	if reg != nil {
		reg.MustRegister(m.spansWritten, m.writeFailures, m.bucketsDropped,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "vigil_traces_disk_bytes", Help: "Disk space used by the trace store.",
			}, func() float64 { return float64(db.diskUsage()) }))
	}
	return m
}

// Open opens (or creates) the store in dir, loads the service and operation names, and
// starts the retention loop.
func Open(dir string, opts Options, log *slog.Logger, reg prometheus.Registerer) (*DB, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("open trace store %s: %w", dir, err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("open trace store: %w", err)
	}
	pdb, err := pebble.Open(dir, pebbleOptions(pebbleLogger{log}))
	if err != nil {
		return nil, fmt.Errorf("open trace store %s: %w", dir, err)
	}
	db := &DB{
		dir:   dir,
		opts:  opts,
		log:   log,
		pdb:   pdb,
		names: newCatalog(),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	if err := db.loadCatalog(); err != nil {
		pdb.Close()
		return nil, fmt.Errorf("open trace store %s: %w", dir, err)
	}
	db.m = newDBMetrics(reg, db)
	go db.retentionLoop()
	return db, nil
}

// Close stops retention and closes the store; in-flight writes finish first.
func (db *DB) Close() error {
	db.closing.Lock()
	if db.closed {
		db.closing.Unlock()
		return nil
	}
	db.closed = true
	close(db.stop)
	db.closing.Unlock()
	<-db.done
	if err := db.pdb.Close(); err != nil {
		return fmt.Errorf("close trace store %s: %w", db.dir, err)
	}
	return nil
}

// acquire holds the DB open for one operation; release with db.closing.RUnlock.
func (db *DB) acquire() error {
	db.closing.RLock()
	if db.closed {
		db.closing.RUnlock()
		return ErrClosed
	}
	return nil
}

// WriteSpans stores spans and returns nil only once they are durable: the batch is
// committed to pebble's write-ahead log with fsync (concurrent writers share fsyncs through
// pebble's group commit). Writing the same span again (a client retry) replaces it. It does
// not keep spans. Safe for concurrent use.
func (db *DB) WriteSpans(ctx context.Context, spans []Span) error {
	if len(spans) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("write %d spans: %w", len(spans), err)
	}
	if err := db.acquire(); err != nil {
		return err
	}
	defer db.closing.RUnlock()

	batch := db.pdb.NewBatch()
	defer batch.Close()
	var (
		key, val []byte
		newNames []nameEntry
	)
	for i := range spans {
		s := &spans[i]
		b := bucketOf(s.Start)
		key = spanKey(key[:0], b, s.TraceID, s.SpanID)
		val = appendSpan(val[:0], s)
		if err := batch.Set(key, val, nil); err != nil {
			return db.writeFailed(len(spans), err)
		}
		if err := db.index(batch, b, s); err != nil {
			return db.writeFailed(len(spans), err)
		}
		ne := nameEntry{bucket: b, op: Operation{Service: s.Service, Kind: s.Kind, Name: s.Name}}
		if !db.names.has(ne) {
			newNames = append(newNames, ne)
			if err := batch.Set(namesKey(nil, b, s.Service, s.Kind, s.Name), nil, nil); err != nil {
				return db.writeFailed(len(spans), err)
			}
		}
	}
	if err := batch.Commit(pebble.Sync); err != nil {
		return db.writeFailed(len(spans), err)
	}
	db.names.add(newNames...)
	db.m.spansWritten.Add(float64(len(spans)))
	if db.opts.Observer != nil {
		db.opts.Observer.ObserveSpans(spans)
	}
	return nil
}

func (db *DB) writeFailed(n int, err error) error {
	db.m.writeFailures.Inc()
	return fmt.Errorf("write %d spans: %w", n, err)
}

// index adds the search index entries of s to batch.
func (db *DB) index(batch *pebble.Batch, b uint32, s *Span) error {
	val := indexValue(nil, s)
	var key []byte
	set := func(kind byte, fields ...string) error {
		key = indexPrefix(key[:0], b, kind, fields...)
		key = appendIndexSuffix(key, s.Start, s.TraceID, s.SpanID)
		return batch.Set(key, val, nil)
	}
	if err := set(kindService, s.Service); err != nil {
		return err
	}
	if err := set(kindOp, s.Service, s.Name); err != nil {
		return err
	}
	for _, a := range indexedTags(s) {
		v := a.Value.String()
		if len(v) > db.opts.MaxIndexedValueLen || len(a.Key) > db.opts.MaxIndexedValueLen {
			continue
		}
		if err := set(kindTag, s.Service, a.Key, v); err != nil {
			return err
		}
	}
	return nil
}

// indexedTags are the tags a Jaeger tag search may name for s: its attributes, its
// resource attributes, and the tags the Jaeger view derives (error, span.kind,
// otel.status_code).
func indexedTags(s *Span) []Attribute {
	tags := make([]Attribute, 0, len(s.Attributes)+len(s.Resource)+3)
	tags = append(tags, s.Attributes...)
	tags = append(tags, s.Resource...)
	if k := s.Kind.String(); k != "" {
		tags = append(tags, Attribute{Key: "span.kind", Value: StringValue(k)})
	}
	switch s.StatusCode {
	case StatusError:
		tags = append(tags, Attribute{Key: "error", Value: BoolValue(true)},
			Attribute{Key: "otel.status_code", Value: StringValue("ERROR")})
	case StatusOK:
		tags = append(tags, Attribute{Key: "otel.status_code", Value: StringValue("OK")})
	}
	return tags
}

func (db *DB) diskUsage() uint64 {
	if db.acquire() != nil {
		return 0
	}
	defer db.closing.RUnlock()
	return db.pdb.Metrics().DiskSpaceUsage()
}

// pebbleLogger sends pebble's messages to slog.
type pebbleLogger struct{ log *slog.Logger }

func (l pebbleLogger) Infof(format string, args ...any) {
	l.log.Debug(fmt.Sprintf(format, args...), "component", "pebble")
}

func (l pebbleLogger) Errorf(format string, args ...any) {
	l.log.Error(fmt.Sprintf(format, args...), "component", "pebble")
}

func (l pebbleLogger) Fatalf(format string, args ...any) {
	// pebble calls Fatalf on invariant violations and expects it not to return.
	msg := fmt.Sprintf(format, args...)
	l.log.Error(msg, "component", "pebble")
	panic(msg)
}
