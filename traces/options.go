package traces

import (
	"errors"
	"fmt"
	"time"
)

// Options configures a DB. The zero value is not usable; start from DefaultOptions.
type Options struct {
	// Retention drops spans whose start is older than this, a whole hour bucket at a time
	// (0: keep forever).
	Retention time.Duration
	// MaxBytes drops the oldest hour buckets while the store uses more disk than this
	// (0: no limit). The newest bucket is never dropped.
	MaxBytes int64
	// RetentionInterval is how often retention runs.
	RetentionInterval time.Duration
	// MaxIndexedValueLen: attribute values longer than this (in bytes, as text) are stored
	// but not indexed for tag search.
	MaxIndexedValueLen int
	// MaxSearchSpans bounds the index entries one search (or one /api/dependencies call)
	// may read; past it the answer is cut short with a warning rather than starving ingest.
	MaxSearchSpans int
	// Observer, if set, sees every batch after it is durable (the span-metrics and
	// service-graph generator). Like Prometheus's tsdb.Options.SeriesLifecycleCallback it is
	// wiring, not configuration.
	Observer SpanObserver
}

// SpanObserver sees committed spans. ObserveSpans must not keep spans or its elements'
// slices after it returns, must not block for long (it runs on the write path) and must be
// safe for concurrent use.
type SpanObserver interface{ ObserveSpans(spans []Span) }

// DefaultOptions returns the documented defaults.
func DefaultOptions() Options {
	return Options{
		Retention:          7 * 24 * time.Hour,
		MaxBytes:           0,
		RetentionInterval:  time.Minute,
		MaxIndexedValueLen: 256,
		MaxSearchSpans:     1_000_000,
	}
}

// Validate reports the first option that cannot work.
func (o Options) Validate() error {
	switch {
	case o.Retention < 0:
		return fmt.Errorf("retention %s: must not be negative", o.Retention)
	case o.Retention > 0 && o.Retention < bucketDuration:
		return fmt.Errorf("retention %s: must be at least %s (spans are dropped an hour at a time)", o.Retention, bucketDuration)
	case o.MaxBytes < 0:
		return fmt.Errorf("max bytes %d: must not be negative", o.MaxBytes)
	case o.RetentionInterval <= 0:
		return errors.New("retention interval must be positive")
	case o.MaxIndexedValueLen <= 0:
		return errors.New("max indexed value length must be positive")
	case o.MaxSearchSpans <= 0:
		return errors.New("max search spans must be positive")
	}
	return nil
}
