package main

import (
	"fmt"
	"regexp"
	"time"

	"github.com/alecthomas/units"
	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"

	"github.com/vigilhq/vigil/forward"
)

// ForwardConfig is what Vigil sends on to other engines as it ingests (README: Growing past
// one node).
type ForwardConfig struct {
	// OTLP are the OTLP endpoints that get what Vigil ingests, through on-disk queues.
	OTLP []ForwardOTLPConfig `yaml:"otlp"`
}

// ForwardOTLPConfig is one OTLP endpoint. Zero fields take the defaults listed in the
// README (forward.EndpointOptions.withDefaults).
type ForwardOTLPConfig struct {
	Name string `yaml:"name"`
	// Protocol: grpc or http/protobuf.
	Protocol string `yaml:"protocol"`
	// Endpoint: host:port for grpc; a base URL for http/protobuf (/v1/<signal> appended).
	Endpoint string `yaml:"endpoint"`
	// TracesURL, LogsURL, MetricsURL: full URLs for http/protobuf, overriding endpoint.
	TracesURL  string            `yaml:"traces_url"`
	LogsURL    string            `yaml:"logs_url"`
	MetricsURL string            `yaml:"metrics_url"`
	Headers    map[string]string `yaml:"headers"`
	TLS        ForwardTLSConfig  `yaml:"tls"`
	// Compression: gzip or none.
	Compression string `yaml:"compression"`
	// Signals: any of traces, logs, metrics (default all three).
	Signals []string         `yaml:"signals"`
	Include []ForwardMatcher `yaml:"include"`
	Exclude []ForwardMatcher `yaml:"exclude"`
	Queue   ForwardQueue     `yaml:"queue"`
	// Timeout bounds one export call; RetryInitialInterval and RetryMaxInterval the backoff.
	Timeout              model.Duration   `yaml:"timeout"`
	RetryInitialInterval model.Duration   `yaml:"retry_initial_interval"`
	RetryMaxInterval     model.Duration   `yaml:"retry_max_interval"`
	MaxBatchSize         units.Base2Bytes `yaml:"max_batch_size"`
}

// ForwardTLSConfig is Prometheus's tls_config plus insecure, which makes a grpc endpoint
// plaintext (as the OpenTelemetry Collector's tls.insecure).
type ForwardTLSConfig struct {
	Insecure         bool `yaml:"insecure"`
	config.TLSConfig `yaml:",inline"`
}

// ForwardMatcher selects by one attribute: value (equal) or regex (anchored).
type ForwardMatcher struct {
	Attribute string `yaml:"attribute"`
	Value     string `yaml:"value"`
	Regex     string `yaml:"regex"`
}

// ForwardQueue bounds an endpoint's queue under <data_dir>/forward/<name>/.
type ForwardQueue struct {
	MaxSize units.Base2Bytes `yaml:"max_size"`
	// OnFull: drop_oldest or backpressure.
	OnFull string `yaml:"on_full"`
}

func (c *ForwardConfig) validate(bad func(key, format string, args ...any)) {
	seen := map[string]bool{}
	for i, e := range c.OTLP {
		key := fmt.Sprintf("forward.otlp[%d]", i)
		if seen[e.Name] {
			bad(key+".name", "%q is used by another endpoint", e.Name)
		}
		seen[e.Name] = true
		if _, err := e.options(); err != nil {
			bad(key, "%v", err)
		}
	}
}

// options maps the endpoint onto forward's options, naming the field of the first problem.
func (e *ForwardOTLPConfig) options() (forward.EndpointOptions, error) {
	o := forward.EndpointOptions{
		Name:          e.Name,
		Protocol:      e.Protocol,
		Endpoint:      e.Endpoint,
		TracesURL:     e.TracesURL,
		LogsURL:       e.LogsURL,
		MetricsURL:    e.MetricsURL,
		Headers:       e.Headers,
		Insecure:      e.TLS.Insecure,
		Compression:   e.Compression,
		Queue:         forward.QueueOptions{MaxBytes: int64(e.Queue.MaxSize), OnFull: forward.OnFull(e.Queue.OnFull)},
		Timeout:       time.Duration(e.Timeout),
		RetryInitial:  time.Duration(e.RetryInitialInterval),
		RetryMax:      time.Duration(e.RetryMaxInterval),
		MaxBatchBytes: int(e.MaxBatchSize),
	}
	if e.Queue.MaxSize < 0 {
		return o, fmt.Errorf("queue.max_size: must not be negative")
	}
	if e.Queue.MaxSize > 0 && e.Queue.MaxSize < 64*units.KiB {
		return o, fmt.Errorf("queue.max_size: at least 64KiB, got %s", e.Queue.MaxSize)
	}
	for _, s := range e.Signals {
		sig, ok := forward.ParseSignal(s)
		if !ok {
			return o, fmt.Errorf("signals: %q is not one of traces, logs, metrics", s)
		}
		o.Signals = append(o.Signals, sig)
	}
	for _, m := range []struct {
		field string
		from  []ForwardMatcher
		to    *[]forward.Matcher
	}{{"include", e.Include, &o.Filter.Include}, {"exclude", e.Exclude, &o.Filter.Exclude}} {
		for j, fm := range m.from {
			if fm.Attribute == "" {
				return o, fmt.Errorf("%s[%d].attribute: must not be empty", m.field, j)
			}
			fwd := forward.Matcher{Attribute: fm.Attribute, Value: fm.Value}
			if fm.Regex != "" {
				if fm.Value != "" {
					return o, fmt.Errorf("%s[%d]: give value or regex, not both", m.field, j)
				}
				re, err := regexp.Compile("^(?:" + fm.Regex + ")$")
				if err != nil {
					return o, fmt.Errorf("%s[%d].regex: %v", m.field, j, err)
				}
				fwd.Regex = re
			}
			*m.to = append(*m.to, fwd)
		}
	}
	if e.TLS.CAFile != "" || e.TLS.CertFile != "" || e.TLS.KeyFile != "" || e.TLS.CA != "" || e.TLS.Cert != "" ||
		e.TLS.ServerName != "" || e.TLS.InsecureSkipVerify {
		cfg, err := config.NewTLSConfig(&e.TLS.TLSConfig)
		if err != nil {
			return o, fmt.Errorf("tls: %v", err)
		}
		o.TLS = cfg
	}
	if err := o.Validate(); err != nil {
		return o, err
	}
	return o, nil
}

// resolvePaths makes the endpoints' TLS file paths relative to the config file's directory.
func (c *ForwardConfig) resolvePaths(dir string) {
	for i := range c.OTLP {
		c.OTLP[i].TLS.SetDirectory(dir)
	}
}

// endpointOptions is every endpoint as forward's options.
func (c *ForwardConfig) endpointOptions() ([]forward.EndpointOptions, error) {
	var out []forward.EndpointOptions
	for i := range c.OTLP {
		o, err := c.OTLP[i].options()
		if err != nil {
			return nil, fmt.Errorf("forward.otlp[%d]: %w", i, err)
		}
		out = append(out, o)
	}
	return out, nil
}
