package main

import (
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/units"
	"github.com/prometheus/common/model"
	promconfig "github.com/prometheus/prometheus/config"
	"go.yaml.in/yaml/v3"
)

// MetricsConfig is the metrics store, its ingest limits, and scraping.
type MetricsConfig struct {
	Retention           model.Duration   `yaml:"retention"`
	RetentionSize       units.Base2Bytes `yaml:"retention_size"`
	OutOfOrderWindow    model.Duration   `yaml:"out_of_order_window"`
	MaxExemplars        int64            `yaml:"max_exemplars"`
	QueryTimeout        model.Duration   `yaml:"query_timeout"`
	QueryMaxSamples     int              `yaml:"query_max_samples"`
	QueryMaxConcurrency int              `yaml:"query_max_concurrency"`
	LookbackDelta       model.Duration   `yaml:"lookback_delta"`
	MaxRequestSize      units.Base2Bytes `yaml:"max_request_size"`
	MaxSeriesPerRequest int              `yaml:"max_series_per_request"`
	// MaxActiveSeries caps the series held in memory (the head block); past it, new series
	// from remote write, OTLP and import are refused (0: no cap).
	MaxActiveSeries int            `yaml:"max_active_series"`
	ScrapeInterval  model.Duration `yaml:"scrape_interval"`
	ScrapeTimeout   model.Duration `yaml:"scrape_timeout"`
	ScrapeConfigs   ScrapeConfigs  `yaml:"scrape_configs"`
}

// DefaultMetricsConfig holds the documented defaults.
func DefaultMetricsConfig() MetricsConfig {
	return MetricsConfig{
		Retention:           model.Duration(15 * 24 * time.Hour),
		OutOfOrderWindow:    model.Duration(10 * time.Minute),
		MaxExemplars:        100_000,
		QueryTimeout:        model.Duration(2 * time.Minute),
		QueryMaxSamples:     50_000_000,
		QueryMaxConcurrency: 20,
		LookbackDelta:       model.Duration(5 * time.Minute),
		MaxRequestSize:      32 * units.MiB,
		MaxSeriesPerRequest: 100_000,
		MaxActiveSeries:     2_000_000,
		ScrapeInterval:      model.Duration(15 * time.Second),
		ScrapeTimeout:       model.Duration(10 * time.Second),
	}
}

// ScrapeConfigs is the scrape_configs list in Prometheus's own format. It is kept as the
// source text of the file and handed to Prometheus's config loader, so every field, default,
// check and error message is Prometheus's, and its line numbers are those of Vigil's file.
type ScrapeConfigs struct {
	Source string // YAML text whose line N is line N of the file it came from
	Dir    string // directory of that file, for relative file_sd paths
}

// setRawYAML receives the text of the key and its value (see yamlDecoder).
func (s *ScrapeConfigs) setRawYAML(src, file string) {
	s.Source = src
	s.Dir = dirOf(file)
}

// MarshalYAML prints the jobs as they were written (for --print-config); Prometheus fills in
// its defaults for the rest when it loads them.
func (s ScrapeConfigs) MarshalYAML() (any, error) {
	var doc struct {
		ScrapeConfigs []any `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal([]byte(s.Source), &doc); err != nil {
		return nil, fmt.Errorf("print scrape_configs: %w", err)
	}
	if doc.ScrapeConfigs == nil {
		return []any{}, nil
	}
	return doc.ScrapeConfigs, nil
}

// PrometheusConfig builds the Prometheus configuration that the scrape manager runs: Vigil's
// scrape interval and timeout as its global section, plus the scrape_configs.
func (m *MetricsConfig) PrometheusConfig() (*promconfig.Config, error) {
	var b strings.Builder
	b.WriteString(m.ScrapeConfigs.Source)
	fmt.Fprintf(&b, "\nglobal:\n  scrape_interval: %s\n  scrape_timeout: %s\n", m.ScrapeInterval, m.ScrapeTimeout)
	cfg, err := promconfig.Load(b.String(), slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	if m.ScrapeConfigs.Dir != "" {
		cfg.SetDirectory(m.ScrapeConfigs.Dir)
	}
	if _, err := cfg.GetScrapeConfigs(); err != nil {
		return nil, err
	}
	return cfg, nil
}

var yamlLineRE = regexp.MustCompile(`line (\d+): `)

func (m *MetricsConfig) validate(bad func(key, format string, args ...any), badAt func(line int, key, msg string)) {
	if m.Retention < 0 {
		bad("metrics.retention", "must not be negative")
	}
	if m.RetentionSize < 0 {
		bad("metrics.retention_size", "must not be negative")
	}
	if m.OutOfOrderWindow < 0 {
		bad("metrics.out_of_order_window", "must not be negative")
	}
	if m.MaxExemplars < 0 {
		bad("metrics.max_exemplars", "must not be negative")
	}
	if m.MaxActiveSeries < 0 {
		bad("metrics.max_active_series", "must not be negative (0: no cap)")
	}
	for key, v := range map[string]int64{
		"metrics.query_timeout":          int64(m.QueryTimeout),
		"metrics.query_max_samples":      int64(m.QueryMaxSamples),
		"metrics.query_max_concurrency":  int64(m.QueryMaxConcurrency),
		"metrics.lookback_delta":         int64(m.LookbackDelta),
		"metrics.max_request_size":       int64(m.MaxRequestSize),
		"metrics.max_series_per_request": int64(m.MaxSeriesPerRequest),
		"metrics.scrape_interval":        int64(m.ScrapeInterval),
		"metrics.scrape_timeout":         int64(m.ScrapeTimeout),
	} {
		if v <= 0 {
			bad(key, "must be positive")
		}
	}
	if m.ScrapeTimeout > m.ScrapeInterval {
		bad("metrics.scrape_timeout", "%s is longer than metrics.scrape_interval %s", m.ScrapeTimeout, m.ScrapeInterval)
	}
	if _, err := m.PrometheusConfig(); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n  ")
		msg = strings.TrimPrefix(msg, "yaml: ")
		// Prometheus's YAML errors carry the line, which is the file's own line.
		if sm := yamlLineRE.FindStringSubmatchIndex(msg); sm != nil && sm[0] == 0 {
			line, _ := strconv.Atoi(msg[sm[2]:sm[3]])
			badAt(line, "metrics.scrape_configs", msg[sm[1]:])
			return
		}
		bad("metrics.scrape_configs", "%s", msg)
	}
}
