package tsdb

import (
	"github.com/prometheus/prometheus/tsdb/wlog"
)

// What a WAL reader outside the store needs: Prometheus's remote-write queue managers tail
// <Dir>/wal with their WAL watcher, as they do a Prometheus server's.

// Dir is the store's directory, the one holding wal/.
func (d *DB) Dir() string { return d.dir }

// NotifyWALWrites makes every committed append call n.Notify, so a WAL watcher reads new
// records at once instead of on its next poll (every 15s). Call it before anything appends:
// Prometheus sets the hook without a lock.
func (d *DB) NotifyWALWrites(n wlog.WriteNotified) { d.db.SetWriteNotified(n) }

// HeadMaxTime is the newest sample timestamp in the head (math.MinInt64 when empty).
func (d *DB) HeadMaxTime() int64 { return d.db.Head().MaxTime() }

// SamplesAppended is the number of float and histogram samples appended to the head since
// Open (Prometheus's prometheus_tsdb_head_samples_appended_total; the family appears with
// the first append).
func (d *DB) SamplesAppended() float64 {
	// Gather returns what it could alongside an error about other families.
	mfs, _ := d.gatherer.Gather()
	for _, mf := range mfs {
		if mf.GetName() != "prometheus_tsdb_head_samples_appended_total" {
			continue
		}
		var n float64
		for _, m := range mf.GetMetric() {
			n += m.GetCounter().GetValue()
		}
		return n
	}
	return 0
}
