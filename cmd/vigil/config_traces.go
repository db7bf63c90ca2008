package main

import (
	"time"

	"github.com/alecthomas/units"
	"github.com/prometheus/common/model"
)

// TracesConfig is the span store, its ingest limits and the span metrics it derives.
type TracesConfig struct {
	Retention      model.Duration    `yaml:"retention"`
	RetentionSize  units.Base2Bytes  `yaml:"retention_size"`
	MaxFutureSkew  model.Duration    `yaml:"max_future_skew"`
	MaxRequestSize units.Base2Bytes  `yaml:"max_request_size"`
	SpanMetrics    SpanMetricsConfig `yaml:"span_metrics"`
	// MaxAttributesPerSpan and MaxAttributeValueLength are the OpenTelemetry SDKs' attribute
	// limits, applied on arrival: extra attributes dropped, long strings cut (0: no limit).
	MaxAttributesPerSpan    int              `yaml:"max_attributes_per_span"`
	MaxAttributeValueLength units.Base2Bytes `yaml:"max_attribute_value_length"`
	// MaxSpansPerRequest refuses, whole with 413 / ResourceExhausted, a request of more spans.
	MaxSpansPerRequest int `yaml:"max_spans_per_request"`
	// QueryTimeout bounds one trace query (search, trace by id, dependencies), queueing
	// included; QueryMaxConcurrency is how many run at once.
	QueryTimeout        model.Duration `yaml:"query_timeout"`
	QueryMaxConcurrency int            `yaml:"query_max_concurrency"`
}

// SpanMetricsConfig controls the RED metrics and service-graph edges written to the TSDB.
type SpanMetricsConfig struct {
	FlushInterval model.Duration `yaml:"flush_interval"`
	MaxSeries     int            `yaml:"max_series"`
}

// DefaultTracesConfig holds the documented defaults.
func DefaultTracesConfig() TracesConfig {
	return TracesConfig{
		Retention:               model.Duration(7 * 24 * time.Hour),
		MaxFutureSkew:           model.Duration(time.Hour),
		MaxRequestSize:          32 * units.MiB,
		SpanMetrics:             SpanMetricsConfig{FlushInterval: model.Duration(15 * time.Second), MaxSeries: 10_000},
		QueryTimeout:            model.Duration(time.Minute),
		QueryMaxConcurrency:     4,
		MaxAttributesPerSpan:    128,
		MaxAttributeValueLength: 16 * units.KiB,
		MaxSpansPerRequest:      100_000,
	}
}

func (c *TracesConfig) validate(bad func(key, format string, args ...any)) {
	if c.Retention != 0 && time.Duration(c.Retention) < time.Hour {
		bad("traces.retention", "must be 0 (keep forever) or at least 1h: spans are dropped an hour at a time")
	}
	if c.RetentionSize < 0 {
		bad("traces.retention_size", "must not be negative")
	}
	if c.MaxFutureSkew <= 0 {
		bad("traces.max_future_skew", "must be positive")
	}
	if c.MaxRequestSize <= 0 {
		bad("traces.max_request_size", "must be positive")
	}
	if c.SpanMetrics.FlushInterval < model.Duration(time.Second) {
		bad("traces.span_metrics.flush_interval", "must be at least 1s")
	}
	if c.SpanMetrics.MaxSeries <= 0 {
		bad("traces.span_metrics.max_series", "must be positive")
	}
	if c.QueryTimeout <= 0 {
		bad("traces.query_timeout", "must be positive")
	}
	if c.MaxSpansPerRequest < 0 {
		bad("traces.max_spans_per_request", "must not be negative (0: no cap)")
	}
	if c.MaxAttributesPerSpan < 0 {
		bad("traces.max_attributes_per_span", "must not be negative (0: no limit)")
	}
	if c.MaxAttributeValueLength < 0 {
		bad("traces.max_attribute_value_length", "must not be negative (0: no limit)")
	}
	if c.QueryMaxConcurrency < 1 {
		bad("traces.query_max_concurrency", "must be at least 1")
	}
}
