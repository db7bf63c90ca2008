package traces

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
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

	names     *catalog
	resources *resourceCache
	writers   sync.Pool // *spanWriter scratch space

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
	if err := checkComparer(dir); err != nil {
		return nil, fmt.Errorf("open trace store %s: %w", dir, err)
	}
	pdb, err := pebble.Open(dir, pebbleOptions(pebbleLogger{log}))
	if err != nil && strings.Contains(err.Error(), "comparer name") {
		// Format 1 used pebble's default key comparer; pebble refuses another one.
		return nil, fmt.Errorf("open trace store %s: %w: the directory holds spans of an older Vigil (format 1), this version reads %q; move it away or delete it (%v)", dir, ErrFormat, storeFormat, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open trace store %s: %w", dir, err)
	}
	db := &DB{
		dir:       dir,
		opts:      opts,
		log:       log,
		pdb:       pdb,
		names:     newCatalog(),
		resources: newResourceCache(),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	if err := checkFormat(pdb); err != nil {
		pdb.Close()
		return nil, fmt.Errorf("open trace store %s: %w", dir, err)
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
	// Flushing the memtable leaves the spans compressed in sstables rather than in the
	// write-ahead log, and makes the next start faster (nothing to replay).
	flushErr := db.pdb.Flush()
	if err := errors.Join(flushErr, db.pdb.Close()); err != nil {
		return fmt.Errorf("close trace store %s: %w", db.dir, err)
	}
	db.removeRecycledWALs()
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

// removeRecycledWALs deletes, after a clean Flush and Close, the write-ahead logs pebble
// keeps to reuse (up to MemTableStopWritesThreshold+1 of them, 64 MiB each once the store
// is busy): every .log file but the newest, which it empties. After the flush no older log holds anything
// unflushed (pebble replays only logs from the manifest's first unflushed one, the newest),
// and no write can come between the flush and the close (Close holds the write lock). A
// stopped store then takes only the space of its spans; pebble makes new logs at the next
// start. Failing to delete one costs only disk space.
func (db *DB) removeRecycledWALs() {
	ents, err := os.ReadDir(db.dir)
	if err != nil {
		db.log.Warn("Cannot list the trace store's write-ahead logs", "err", err)
		return
	}
	var logs []string
	for _, e := range ents {
		if name := e.Name(); strings.HasSuffix(name, ".log") && len(name) > len(".log") && e.Type().IsRegular() {
			if _, err := strconv.ParseUint(strings.TrimSuffix(name, ".log"), 10, 64); err == nil {
				logs = append(logs, name)
			}
		}
	}
	// Names are zero-padded file numbers of equal width, so the newest sorts last.
	slices.SortFunc(logs, func(a, b string) int { return cmp.Or(cmp.Compare(len(a), len(b)), cmp.Compare(a, b)) })
	if len(logs) == 0 {
		return
	}
	for _, name := range logs[:len(logs)-1] {
		if err := os.Remove(filepath.Join(db.dir, name)); err != nil {
			db.log.Warn("Cannot remove a recycled write-ahead log", "file", name, "err", err)
		}
	}
	// The newest log holds no record (nothing was written after the flush), but when it was
	// a reused file it still has its old bytes, which pebble's reader skips by log number.
	// Empty, it is what pebble makes for a new log.
	newest := filepath.Join(db.dir, logs[len(logs)-1])
	if err := os.Truncate(newest, 0); err != nil {
		db.log.Warn("Cannot empty the last write-ahead log", "file", newest, "err", err)
	}
}
