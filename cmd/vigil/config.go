package main

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/alecthomas/units"
	"github.com/prometheus/common/model"
)

// Config is the whole of Vigil's configuration: the YAML file's shape, the defaults, and the
// target of the command-line flags. Each section maps onto one package's Options.
type Config struct {
	DataDir        string `yaml:"data_dir"`
	HTTPListen     string `yaml:"http_listen"`
	OTLPGRPCListen string `yaml:"otlp_grpc_listen"`
	OTLPHTTPListen string `yaml:"otlp_http_listen"`
	LogLevel       string `yaml:"log_level"`
	LogFormat      string `yaml:"log_format"`
	// ShutdownTimeout bounds a graceful stop: flushing in-flight batches and closing stores.
	ShutdownTimeout model.Duration `yaml:"shutdown_timeout"`
	// MemoryLimit is the memory Vigil aims to stay under (Go's GOMEMLIMIT): "auto" takes
	// GOMEMLIMIT from the environment when set, else 70% of the machine's or cgroup's memory.
	// A quarter of it bounds the ingest requests in flight; past that, ingest answers 429.
	MemoryLimit string `yaml:"memory_limit"`
	// MinFreeDisk is the free space kept on the data directory's filesystem: below it,
	// ingest refuses writes (503, gRPC Unavailable) so that no store meets a full disk
	// mid-write and compactions still have room; writes resume by themselves with space.
	MinFreeDisk units.Base2Bytes `yaml:"min_free_disk"`

	OTLP        OTLPConfig        `yaml:"otlp"`
	SelfMetrics SelfMetricsConfig `yaml:"self_metrics"`
	Metrics     MetricsConfig     `yaml:"metrics"`
	Logs        LogsConfig        `yaml:"logs"`
	Traces      TracesConfig      `yaml:"traces"`
	Alerting    AlertingConfig    `yaml:"alerting"`
	SLO         SLOConfig         `yaml:"slo"`
	Web         WebConfig         `yaml:"web"`
	Auth        AuthConfig        `yaml:"auth"`
	TLS         TLSConfig         `yaml:"tls"`

	// Forwarding to and reading from other engines (README: Growing past one node).
	RemoteWrite RemoteWriteConfigs `yaml:"remote_write"`
	Query       QueryConfig        `yaml:"query"`
	Forward     ForwardConfig      `yaml:"forward"`
}

// OTLPConfig holds what the OTLP listeners share across signals.
type OTLPConfig struct {
	// MaxRequestSize bounds one export request, compressed and decompressed alike.
	MaxRequestSize units.Base2Bytes `yaml:"max_request_size"`
}

// SelfMetricsConfig controls how Vigil records its own metrics.
type SelfMetricsConfig struct {
	// Interval between two recordings of Vigil's own metrics into its TSDB (job="vigil").
	Interval model.Duration `yaml:"interval"`
}

// DefaultConfig is what `vigil` with no file and no flags runs with.
func DefaultConfig() Config {
	return Config{
		DataDir:         "./data",
		HTTPListen:      "127.0.0.1:9700",
		OTLPGRPCListen:  "127.0.0.1:4317",
		OTLPHTTPListen:  "127.0.0.1:4318",
		LogLevel:        "info",
		LogFormat:       "logfmt",
		ShutdownTimeout: model.Duration(10 * time.Second),
		MemoryLimit:     "auto",
		MinFreeDisk:     256 * units.MiB,
		OTLP:            OTLPConfig{MaxRequestSize: 32 * units.MiB},
		SelfMetrics:     SelfMetricsConfig{Interval: model.Duration(15 * time.Second)},
		Metrics:         DefaultMetricsConfig(),
		Logs:            DefaultLogsConfig(),
		Traces:          DefaultTracesConfig(),
		Alerting:        DefaultAlertingConfig(),
		SLO:             DefaultSLOConfig(),
		Web:             DefaultWebConfig(),
		Auth:            DefaultAuthConfig(),
	}
}

// fieldError is a configuration value that cannot work, named by its key path
// (e.g. "otlp.max_request_size") so the loader can point at the file line or the flag.
// Line, when set, is a more precise line than the key's own (inside a nested block).
type fieldError struct {
	Key  string
	Msg  string
	Line int
}

func (e *fieldError) Error() string { return fmt.Sprintf("%s: %s", e.Key, e.Msg) }

// Validate returns every value that cannot work, each as a *fieldError.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &fieldError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	if c.DataDir == "" {
		bad("data_dir", "must not be empty")
	}
	for key, addr := range map[string]string{
		"http_listen":      c.HTTPListen,
		"otlp_grpc_listen": c.OTLPGRPCListen,
		"otlp_http_listen": c.OTLPHTTPListen,
	} {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			bad(key, "%q is not a host:port address: %v", addr, err)
		}
	}
	if _, err := parseLogLevel(c.LogLevel); err != nil {
		bad("log_level", "%v", err)
	}
	if c.LogFormat != "json" && c.LogFormat != "logfmt" {
		bad("log_format", "%q is not one of json, logfmt", c.LogFormat)
	}
	if c.ShutdownTimeout <= 0 {
		bad("shutdown_timeout", "must be positive, got %s", c.ShutdownTimeout)
	}
	if _, err := c.memoryLimitBytes(); err != nil {
		bad("memory_limit", "%v", err)
	}
	if c.MinFreeDisk < 0 {
		bad("min_free_disk", "must not be negative, got %s", c.MinFreeDisk)
	}
	if c.OTLP.MaxRequestSize <= 0 {
		bad("otlp.max_request_size", "must be positive, got %s", c.OTLP.MaxRequestSize)
	}
	if time.Duration(c.SelfMetrics.Interval) < time.Second {
		bad("self_metrics.interval", "must be at least 1s, got %s", c.SelfMetrics.Interval)
	}
	c.Logs.validate(bad)
	c.Traces.validate(bad)
	c.Alerting.validate(bad)
	c.SLO.validate(bad)
	c.Auth.validate(bad)
	c.TLS.validate(bad)
	c.Metrics.validate(bad, func(line int, key, msg string) {
		errs = append(errs, &fieldError{Key: key, Msg: msg, Line: line})
	})
	c.RemoteWrite.validate(bad, func(line int, key, msg string) {
		errs = append(errs, &fieldError{Key: key, Msg: msg, Line: line})
	})
	c.Query.validate(bad)
	c.Forward.validate(bad)
	return errors.Join(errs...)
}

// memoryLimitBytes is memory_limit in bytes; 0 means "auto".
func (c *Config) memoryLimitBytes() (int64, error) {
	if c.MemoryLimit == "auto" || c.MemoryLimit == "" {
		return 0, nil
	}
	n, err := units.ParseBase2Bytes(c.MemoryLimit)
	if err != nil || n < 64*units.MiB {
		return 0, fmt.Errorf("%q is not \"auto\" or a size of at least 64MiB such as 2GiB", c.MemoryLimit)
	}
	return int64(n), nil
}
