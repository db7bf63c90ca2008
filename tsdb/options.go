package tsdb

import (
	"errors"
	"fmt"
	"time"

	promtsdb "github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/util/compression"
)

// maxDefaultBlockDuration caps the derived MaxBlockDuration, as Prometheus does.
const maxDefaultBlockDuration = 31 * 24 * time.Hour

// Options configures a DB. Start from DefaultOptions; the zero value is not
// valid. Native histograms are always stored (Prometheus 3 has no switch).
type Options struct {
	// RetentionTime is how long blocks are kept. 0 disables time-based retention.
	RetentionTime time.Duration
	// RetentionSize is the maximum bytes of blocks, WAL and head chunks kept.
	// 0 disables size-based retention.
	RetentionSize int64
	// OutOfOrderWindow is how far behind the newest sample in the head an
	// out-of-order sample is still accepted. 0 rejects all out-of-order samples.
	OutOfOrderWindow time.Duration

	// MinBlockDuration is the head block span before it is compacted (2h).
	MinBlockDuration time.Duration
	// MaxBlockDuration is the largest compacted block. 0 derives it as
	// Prometheus does: 10% of RetentionTime, capped at 31 days.
	MaxBlockDuration time.Duration

	// WALSegmentSize is the size of one WAL segment file; 0 uses Prometheus's
	// default (128 MiB).
	WALSegmentSize int
	// WALCompression snappy-compresses WAL records (Prometheus default: on).
	WALCompression bool

	// EnableExemplars turns on the in-memory exemplar ring buffer (persisted via WAL).
	EnableExemplars bool
	// MaxExemplars is the size of the exemplar ring buffer.
	MaxExemplars int64

	// QueryTimeout bounds one PromQL query.
	QueryTimeout time.Duration
	// QueryMaxSamples bounds the samples one query may hold in memory.
	QueryMaxSamples int
	// LookbackDelta is how far back an instant selector looks for a sample.
	LookbackDelta time.Duration
	// QueryMaxConcurrency is how many queries run at once; others queue.
	QueryMaxConcurrency int
	// SubqueryStep is the step of subqueries written without one (Prometheus
	// uses the global evaluation interval, 1m by default).
	SubqueryStep time.Duration
	// EnableExperimentalFunctions enables PromQL functions Prometheus keeps
	// behind --enable-feature=promql-experimental-functions (off by default).
	EnableExperimentalFunctions bool
}

// DefaultOptions returns Prometheus's defaults with Vigil's choices:
// 15d retention, a 10m out-of-order window and exemplars on.
func DefaultOptions() Options {
	const retention = 15 * 24 * time.Hour
	return Options{
		RetentionTime:       retention,
		OutOfOrderWindow:    10 * time.Minute,
		MinBlockDuration:    time.Duration(promtsdb.DefaultBlockDuration) * time.Millisecond,
		MaxBlockDuration:    derivedMaxBlockDuration(retention),
		WALCompression:      true,
		EnableExemplars:     true,
		MaxExemplars:        100_000,
		QueryTimeout:        2 * time.Minute,
		QueryMaxSamples:     50_000_000,
		LookbackDelta:       5 * time.Minute,
		QueryMaxConcurrency: 20,
		SubqueryStep:        time.Minute,
	}
}

// Validate reports every invalid field at once.
func (o Options) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(o.RetentionTime >= 0, "retention time %s is negative", o.RetentionTime)
	check(o.RetentionSize >= 0, "retention size %d is negative", o.RetentionSize)
	check(o.OutOfOrderWindow >= 0, "out-of-order window %s is negative", o.OutOfOrderWindow)
	check(o.MinBlockDuration > 0, "min block duration %s must be positive", o.MinBlockDuration)
	check(o.MaxBlockDuration == 0 || o.MaxBlockDuration >= o.MinBlockDuration,
		"max block duration %s is below min block duration %s", o.MaxBlockDuration, o.MinBlockDuration)
	check(o.WALSegmentSize >= 0, "WAL segment size %d is negative", o.WALSegmentSize)
	check(!o.EnableExemplars || o.MaxExemplars > 0, "max exemplars %d must be positive when exemplars are enabled", o.MaxExemplars)
	check(o.QueryTimeout > 0, "query timeout %s must be positive", o.QueryTimeout)
	check(o.QueryMaxSamples > 0, "query max samples %d must be positive", o.QueryMaxSamples)
	check(o.LookbackDelta > 0, "lookback delta %s must be positive", o.LookbackDelta)
	check(o.QueryMaxConcurrency > 0, "query max concurrency %d must be positive", o.QueryMaxConcurrency)
	check(o.SubqueryStep > 0, "subquery step %s must be positive", o.SubqueryStep)
	return errors.Join(errs...)
}

// promOptions maps o onto Prometheus's TSDB options, starting from its defaults.
func (o Options) promOptions() *promtsdb.Options {
	p := promtsdb.DefaultOptions()
	p.RetentionDuration = o.RetentionTime.Milliseconds()
	p.MaxBytes = o.RetentionSize
	p.OutOfOrderTimeWindow = o.OutOfOrderWindow.Milliseconds()
	p.MinBlockDuration = o.MinBlockDuration.Milliseconds()
	maxBlock := o.MaxBlockDuration
	if maxBlock == 0 {
		maxBlock = derivedMaxBlockDuration(o.RetentionTime)
	}
	p.MaxBlockDuration = max(maxBlock, o.MinBlockDuration).Milliseconds()
	if o.WALSegmentSize > 0 {
		p.WALSegmentSize = o.WALSegmentSize
	}
	p.WALCompression = compression.None
	if o.WALCompression {
		p.WALCompression = compression.Snappy
	}
	// A clean stop writes the head's series and chunks to a snapshot, so the next start
	// reads it instead of replaying the whole WAL (Prometheus's memory-snapshot-on-shutdown).
	// A crash still replays the WAL, as before.
	p.EnableMemorySnapshotOnShutdown = true
	p.EnableExemplarStorage = o.EnableExemplars
	if o.EnableExemplars {
		p.MaxExemplars = o.MaxExemplars
	}
	return p
}

// derivedMaxBlockDuration is Prometheus's rule: 10% of retention, at most 31d.
func derivedMaxBlockDuration(retention time.Duration) time.Duration {
	d := maxDefaultBlockDuration
	if retention != 0 && retention/10 < d {
		d = retention / 10
	}
	return d
}
