package logs

import (
	"github.com/VictoriaMetrics/metrics"
)

// storeMetrics are the store's self-metrics on the *metrics.Set from Options.Metrics:
//
//   - vigil_logs_lines_written_total, vigil_logs_bytes_written_total: acknowledged lines and
//     their encoded bytes.
//   - vigil_logs_wal_fsyncs_total: WAL fsyncs (fewer than writes when group commit works).
//   - vigil_logs_blocks_flushed_total, vigil_logs_flush_errors_total,
//     vigil_logs_flush_duration_seconds.
//   - vigil_logs_wal_bytes, vigil_logs_partitions, vigil_logs_disk_bytes (partitions only):
//     gauges, updated after each flush and retention pass.
//   - vigil_logs_partitions_dropped_total{reason="age"|"size"}.
//   - vigil_logs_queries_total{kind}, vigil_logs_query_errors_total{kind},
//     vigil_logs_query_duration_seconds{kind}: kind is query, volume, field_values, context.
//   - vigil_logs_tail_dropped_total: lines a slow tail subscriber missed.
type storeMetrics struct {
	set                                   *metrics.Set
	linesWritten, bytesWritten, walFsyncs *metrics.Counter
	blocksFlushed, flushErrors            *metrics.Counter
	flushDuration                         *metrics.Histogram
	walBytes, partitions, diskBytes       *metrics.Gauge
	droppedAge, droppedSize               *metrics.Counter
	tailDropped                           *metrics.Counter
}

func newStoreMetrics(set *metrics.Set) *storeMetrics {
	if set == nil {
		set = metrics.NewSet() // private: keeps the store nil-safe in tests
	}
	return &storeMetrics{
		set:           set,
		linesWritten:  set.GetOrCreateCounter("vigil_logs_lines_written_total"),
		bytesWritten:  set.GetOrCreateCounter("vigil_logs_bytes_written_total"),
		walFsyncs:     set.GetOrCreateCounter("vigil_logs_wal_fsyncs_total"),
		blocksFlushed: set.GetOrCreateCounter("vigil_logs_blocks_flushed_total"),
		flushErrors:   set.GetOrCreateCounter("vigil_logs_flush_errors_total"),
		flushDuration: set.GetOrCreateHistogram("vigil_logs_flush_duration_seconds"),
		walBytes:      set.GetOrCreateGauge("vigil_logs_wal_bytes", nil),
		partitions:    set.GetOrCreateGauge("vigil_logs_partitions", nil),
		diskBytes:     set.GetOrCreateGauge("vigil_logs_disk_bytes", nil),
		droppedAge:    set.GetOrCreateCounter(`vigil_logs_partitions_dropped_total{reason="age"}`),
		droppedSize:   set.GetOrCreateCounter(`vigil_logs_partitions_dropped_total{reason="size"}`),
		tailDropped:   set.GetOrCreateCounter("vigil_logs_tail_dropped_total"),
	}
}

func (m *storeMetrics) query(kind string) (total, errs *metrics.Counter, dur *metrics.Histogram) {
	return m.set.GetOrCreateCounter(`vigil_logs_queries_total{kind="` + kind + `"}`),
		m.set.GetOrCreateCounter(`vigil_logs_query_errors_total{kind="` + kind + `"}`),
		m.set.GetOrCreateHistogram(`vigil_logs_query_duration_seconds{kind="` + kind + `"}`)
}

// updateGauges refreshes the WAL, partition count and disk size gauges.
func (s *Store) updateGauges() {
	s.mu.RLock()
	parts := make([]*partition, 0, len(s.parts))
	for _, p := range s.parts {
		parts = append(parts, p)
	}
	s.mu.RUnlock()
	var disk int64
	for _, p := range parts {
		disk += p.sizeBytes()
	}
	s.m.partitions.Set(float64(len(parts)))
	s.m.diskBytes.Set(float64(disk))
	if s.wal != nil {
		s.m.walBytes.Set(float64(s.wal.size.Load()))
	}
}
