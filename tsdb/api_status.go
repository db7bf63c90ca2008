package tsdb

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/alecthomas/units"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	promtsdb "github.com/prometheus/prometheus/tsdb"
	v1 "github.com/prometheus/prometheus/web/api/v1"
)

// adminStats adapts the store to the API's TSDBAdminStats, as Prometheus's
// readyStorage does for its own DB.
type adminStats struct{ d *DB }

func (a adminStats) CleanTombstones() error { return a.d.db.CleanTombstones() }

func (a adminStats) Delete(ctx context.Context, mint, maxt int64, ms ...*labels.Matcher) error {
	return a.d.db.Delete(ctx, mint, maxt, ms...)
}

func (a adminStats) Snapshot(dir string, withHead bool) error { return a.d.db.Snapshot(dir, withHead) }

func (a adminStats) Stats(statsByLabelName string, limit int) (*promtsdb.Stats, error) {
	return a.d.db.Head().Stats(statsByLabelName, limit), nil
}

func (a adminStats) WALReplayStatus() (promtsdb.WALReplayStatus, error) {
	return a.d.stats.Head.WALReplayStatus.GetWALReplayStatus(), nil
}

func (a adminStats) BlockMetas() ([]promtsdb.BlockMeta, error) { return a.d.db.BlockMetas(), nil }

// runtimeInfo fills /api/v1/status/runtimeinfo the way Prometheus's web
// handler does, minus config reloads (Vigil's config is not reloaded here).
func (d *DB) runtimeInfo(g prometheus.Gatherer) (v1.RuntimeInfo, error) {
	info := v1.RuntimeInfo{
		StartTime:           d.started,
		ServerTime:          time.Now().UTC(),
		ReloadConfigSuccess: true,
		LastConfigTime:      d.started,
		GoroutineCount:      runtime.NumGoroutine(),
		GOMAXPROCS:          runtime.GOMAXPROCS(0),
		GOMEMLIMIT:          debug.SetMemoryLimit(-1),
		GOGC:                os.Getenv("GOGC"),
		GODEBUG:             os.Getenv("GODEBUG"),
		StorageRetention:    retentionString(d.opts),
	}
	var err error
	if info.CWD, err = os.Getwd(); err != nil {
		info.CWD = "<error retrieving current working directory>"
	}
	if info.Hostname, err = os.Hostname(); err != nil {
		return info, fmt.Errorf("get hostname: %w", err)
	}
	mfs, err := g.Gather()
	if err != nil {
		return info, fmt.Errorf("gather runtime status: %w", err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "prometheus_tsdb_wal_corruptions_total" && len(mf.GetMetric()) > 0 {
			info.CorruptionCount = int64(mf.GetMetric()[0].GetCounter().GetValue())
		}
	}
	return info, nil
}

// retentionString renders retention like Prometheus: "15d", "1GiB", "15d or 1GiB".
func retentionString(o Options) string {
	var s string
	if o.RetentionTime != 0 {
		s = model.Duration(o.RetentionTime).String()
	}
	if o.RetentionSize != 0 {
		if s != "" {
			s += " or "
		}
		s += units.Base2Bytes(o.RetentionSize).String()
	}
	return s
}
