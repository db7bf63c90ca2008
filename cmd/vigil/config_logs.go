package main

import (
	"time"

	"github.com/alecthomas/units"
	"github.com/prometheus/common/model"
)

// LogsConfig is the log store and its ingest limits.
type LogsConfig struct {
	Retention      model.Duration   `yaml:"retention"`
	RetentionSize  units.Base2Bytes `yaml:"retention_size"`
	Partition      model.Duration   `yaml:"partition"`
	FlushInterval  model.Duration   `yaml:"flush_interval"`
	MaxLineSize    units.Base2Bytes `yaml:"max_line_size"`
	MaxRequestSize units.Base2Bytes `yaml:"max_request_size"`
	// MaxLinesPerRequest refuses, whole with 413, a request of more lines (0: no cap).
	MaxLinesPerRequest int `yaml:"max_lines_per_request"`
	// QueryTimeout bounds one log query (search, volume, fields, context), queueing included;
	// QueryMaxConcurrency is how many run at once (live tails are not counted).
	QueryTimeout        model.Duration `yaml:"query_timeout"`
	QueryMaxConcurrency int            `yaml:"query_max_concurrency"`
}

// DefaultLogsConfig holds the documented defaults.
func DefaultLogsConfig() LogsConfig {
	return LogsConfig{
		Retention:           model.Duration(7 * 24 * time.Hour),
		Partition:           model.Duration(time.Hour),
		FlushInterval:       model.Duration(2 * time.Second),
		MaxLineSize:         256 * units.KiB,
		MaxRequestSize:      32 * units.MiB,
		MaxLinesPerRequest:  100_000,
		QueryTimeout:        model.Duration(time.Minute),
		QueryMaxConcurrency: 4,
	}
}

func (c *LogsConfig) validate(bad func(key, format string, args ...any)) {
	if c.Retention < 0 {
		bad("logs.retention", "must not be negative")
	}
	if c.QueryTimeout <= 0 {
		bad("logs.query_timeout", "must be positive")
	}
	if c.MaxLinesPerRequest < 0 {
		bad("logs.max_lines_per_request", "must not be negative (0: no cap)")
	}
	if c.QueryMaxConcurrency < 1 {
		bad("logs.query_max_concurrency", "must be at least 1")
	}
	if c.RetentionSize < 0 {
		bad("logs.retention_size", "must not be negative")
	}
	if time.Duration(c.Partition) < time.Minute || time.Duration(c.Partition)%time.Second != 0 {
		bad("logs.partition", "must be whole seconds and at least 1m")
	}
	if c.FlushInterval <= 0 {
		bad("logs.flush_interval", "must be positive")
	}
	if c.MaxLineSize <= 0 {
		bad("logs.max_line_size", "must be positive")
	}
	if c.MaxRequestSize < c.MaxLineSize {
		bad("logs.max_request_size", "must be at least logs.max_line_size")
	}
}
