package logs

import (
	"errors"
	"fmt"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// Options configures a Store. Start from DefaultOptions; the zero value is not valid.
type Options struct {
	// PartitionDuration is the time span of one partition (one directory, one bleve index).
	// It must be a whole number of seconds, at least one minute. Changing it affects only
	// partitions created afterwards.
	PartitionDuration time.Duration
	// Retention drops partitions that ended more than this long ago. 0 keeps them forever.
	Retention time.Duration
	// MaxTotalBytes drops the oldest partitions while the store's partitions take more than
	// this many bytes on disk. 0 means no size limit. The WAL is not counted.
	MaxTotalBytes int64
	// RetentionCheckInterval is how often retention runs.
	RetentionCheckInterval time.Duration

	// BlockLines and BlockBytes cut a service's block when it holds this many lines or
	// this many bytes of raw lines, whichever comes first.
	BlockLines int
	BlockBytes int
	// FlushInterval is how often buffered lines are written as blocks and the WAL truncated.
	// Blocks are therefore at most about FlushInterval long.
	FlushInterval time.Duration
	// FlushBytes starts a flush early once the buffered lines hold this much memory (about
	// 2.5× their raw size); writers wait while twice this much waits to be indexed.
	FlushBytes int64
	// MaxLineBytes rejects a batch holding a Raw line longer than this (ErrLineTooLarge).
	MaxLineBytes int

	// DefaultLimit is Query's limit when Query.Limit is 0; MaxLimit caps it.
	DefaultLimit int
	MaxLimit     int
	// QueryTotalLimit is the API's default total_limit: past this many matches, a query's
	// total stops being exact where counting would verify lines one by one (Query.TotalLimit).
	// 0 keeps totals exact.
	QueryTotalLimit int
	// MaxVolumeBuckets caps the number of time buckets one Volume call may return.
	MaxVolumeBuckets int
	// TailBuffer is the number of lines a slow Tail subscriber may fall behind before
	// lines are dropped for it (counted in vigil_logs_tail_dropped_total).
	TailBuffer int

	// Metrics receives the store's self-metrics (vigil_logs_*). nil keeps them private.
	Metrics *metrics.Set
	// Now is the clock; nil means time.Now. Tests set it.
	Now func() time.Time
}

// DefaultOptions returns the defaults: 1h partitions, 7d retention, no size limit, blocks of
// 1,000 lines or 1 MiB, a 2s flush interval (or 32 MiB of buffered lines) and a 256 KiB line
// limit.
func DefaultOptions() Options {
	return Options{
		PartitionDuration:      time.Hour,
		Retention:              7 * 24 * time.Hour,
		RetentionCheckInterval: time.Minute,
		BlockLines:             1000,
		BlockBytes:             1 << 20,
		FlushInterval:          2 * time.Second,
		// Lines hold about 3x their raw size in memory, and writers are held back at twice
		// this: at 32 MiB a burst keeps under about 100 MiB of lines in memory (64 MiB
		// peaked at 379 MiB RSS in bench/logs QUICK, 200k lines in 2.4 s).
		FlushBytes:       32 << 20,
		MaxLineBytes:     256 << 10,
		DefaultLimit:     100,
		MaxLimit:         5000,
		QueryTotalLimit:  10000,
		MaxVolumeBuckets: 11000,
		TailBuffer:       1024,
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
	check(o.PartitionDuration >= time.Minute && o.PartitionDuration%time.Second == 0,
		"partition duration %s must be a whole number of seconds, at least 1m", o.PartitionDuration)
	check(o.Retention >= 0, "retention %s is negative", o.Retention)
	check(o.MaxTotalBytes >= 0, "max total bytes %d is negative", o.MaxTotalBytes)
	check(o.RetentionCheckInterval > 0, "retention check interval %s must be positive", o.RetentionCheckInterval)
	check(o.BlockLines > 0, "block lines %d must be positive", o.BlockLines)
	check(o.BlockBytes > 0, "block bytes %d must be positive", o.BlockBytes)
	check(o.FlushInterval > 0, "flush interval %s must be positive", o.FlushInterval)
	check(o.FlushBytes > 0, "flush bytes %d must be positive", o.FlushBytes)
	check(o.MaxLineBytes > 0, "max line bytes %d must be positive", o.MaxLineBytes)
	check(o.DefaultLimit > 0, "default limit %d must be positive", o.DefaultLimit)
	check(o.MaxLimit >= o.DefaultLimit, "max limit %d is below the default limit %d", o.MaxLimit, o.DefaultLimit)
	check(o.QueryTotalLimit >= 0, "query total limit %d is negative", o.QueryTotalLimit)
	check(o.MaxVolumeBuckets > 0, "max volume buckets %d must be positive", o.MaxVolumeBuckets)
	check(o.TailBuffer > 0, "tail buffer %d must be positive", o.TailBuffer)
	return errors.Join(errs...)
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}
