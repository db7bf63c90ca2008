package main

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
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

// ForwardTLSConfig is the client TLS of an endpoint: insecure makes a grpc endpoint plaintext
// (as the OpenTelemetry Collector's tls.insecure); the rest are Prometheus tls_config keys.
type ForwardTLSConfig struct {
	Insecure           bool   `yaml:"insecure"`
	CAFile             string `yaml:"ca_file"`
	CertFile           string `yaml:"cert_file"`
	KeyFile            string `yaml:"key_file"`
	ServerName         string `yaml:"server_name"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// resolvePaths makes relative file paths relative to dir.
func (c *ForwardTLSConfig) resolvePaths(dir string) {
	for _, p := range []*string{&c.CAFile, &c.CertFile, &c.KeyFile} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
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
		_, problems := e.options(false)
		for _, p := range problems {
			bad(key+"."+p.field, "%s", p.msg)
		}
	}
}

// forwardProblem is a value of an endpoint that cannot work, by its key within the endpoint.
type forwardProblem struct{ field, msg string }

var forwardName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// options maps the endpoint onto forward's options and lists every value that cannot work.
// Its TLS files are read only with loadTLS (at start and reload, not while validating a file,
// as Prometheus does), so a config can be checked where they are not.
func (e *ForwardOTLPConfig) options(loadTLS bool) (forward.EndpointOptions, []forwardProblem) {
	var problems []forwardProblem
	bad := func(field, format string, args ...any) {
		problems = append(problems, forwardProblem{field, fmt.Sprintf(format, args...)})
	}
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
	if !forwardName.MatchString(e.Name) {
		bad("name", "%q: want 1 to 64 letters, digits, '_', '.' or '-' (it names the queue's directory)", e.Name)
	}
	switch e.Protocol {
	case "", forward.ProtocolGRPC:
		if e.Endpoint == "" {
			bad("endpoint", "required: host:port of the OTLP gRPC receiver")
		} else {
			hostPort := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(e.Endpoint, "http://"), "https://"), "/")
			if _, _, err := net.SplitHostPort(hostPort); err != nil {
				bad("endpoint", "%q is not host:port (or http://host:port for plaintext, https://host:port)", e.Endpoint)
			}
		}
	case forward.ProtocolHTTP:
		for field, u := range map[string]string{"endpoint": e.Endpoint, "traces_url": e.TracesURL, "logs_url": e.LogsURL, "metrics_url": e.MetricsURL} {
			if u == "" {
				continue
			}
			if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
				bad(field, "%q is not an http:// or https:// URL", u)
			}
		}
		if e.Endpoint == "" && e.TracesURL == "" && e.LogsURL == "" && e.MetricsURL == "" {
			bad("endpoint", "required: the base URL of the OTLP/HTTP receiver (or traces_url, logs_url, metrics_url)")
		}
	default:
		bad("protocol", "%q is not one of grpc, http/protobuf", e.Protocol)
	}
	switch e.Compression {
	case "", "gzip", "none":
	default:
		bad("compression", "%q is not one of gzip, none", e.Compression)
	}
	switch forward.OnFull(e.Queue.OnFull) {
	case "", forward.DropOldest, forward.Backpressure:
	default:
		bad("queue.on_full", "%q is not one of drop_oldest, backpressure", e.Queue.OnFull)
	}
	if e.Queue.MaxSize < 0 || e.Queue.MaxSize > 0 && e.Queue.MaxSize < 64*units.KiB {
		bad("queue.max_size", "at least 64KiB, got %s", e.Queue.MaxSize)
	}
	for field, d := range map[string]model.Duration{"timeout": e.Timeout, "retry_initial_interval": e.RetryInitialInterval, "retry_max_interval": e.RetryMaxInterval} {
		if d < 0 {
			bad(field, "must not be negative")
		}
	}
	if e.RetryInitialInterval > 0 && e.RetryMaxInterval > 0 && e.RetryInitialInterval > e.RetryMaxInterval {
		bad("retry_initial_interval", "%s is longer than retry_max_interval %s", e.RetryInitialInterval, e.RetryMaxInterval)
	}
	if e.MaxBatchSize < 0 {
		bad("max_batch_size", "must not be negative")
	}
	for _, s := range e.Signals {
		sig, ok := forward.ParseSignal(s)
		if !ok {
			bad("signals", "%q is not one of traces, logs, metrics", s)
			continue
		}
		o.Signals = append(o.Signals, sig)
	}
	if e.Protocol == forward.ProtocolHTTP && e.Endpoint == "" && (e.TracesURL != "" || e.LogsURL != "" || e.MetricsURL != "") {
		for _, sig := range o.Signals {
			if map[forward.Signal]string{forward.SignalTraces: e.TracesURL, forward.SignalLogs: e.LogsURL, forward.SignalMetrics: e.MetricsURL}[sig] == "" {
				bad("endpoint", "required: no %s_url for signal %s", sig, sig)
				break
			}
		}
	}
	for _, m := range []struct {
		field string
		from  []ForwardMatcher
		to    *[]forward.Matcher
	}{{"include", e.Include, &o.Filter.Include}, {"exclude", e.Exclude, &o.Filter.Exclude}} {
		for j, fm := range m.from {
			key := fmt.Sprintf("%s[%d]", m.field, j)
			if fm.Attribute == "" {
				bad(key+".attribute", "must not be empty")
			}
			fwd := forward.Matcher{Attribute: fm.Attribute, Value: fm.Value}
			if fm.Regex != "" {
				if fm.Value != "" {
					bad(key, "give value or regex, not both")
				}
				re, err := regexp.Compile("^(?:" + fm.Regex + ")$")
				if err != nil {
					bad(key+".regex", "%v", err)
				}
				fwd.Regex = re
			}
			*m.to = append(*m.to, fwd)
		}
	}
	if t := e.TLS; (t.CertFile == "") != (t.KeyFile == "") {
		bad("tls", "cert_file and key_file go together")
	}
	if t := e.TLS; loadTLS && (t.CAFile != "" || t.CertFile != "" || t.KeyFile != "" || t.ServerName != "" || t.InsecureSkipVerify) {
		cfg, err := config.NewTLSConfig(&config.TLSConfig{CAFile: t.CAFile, CertFile: t.CertFile, KeyFile: t.KeyFile,
			ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify})
		if err != nil {
			bad("tls", "%v", err)
		}
		o.TLS = cfg
	}
	return o, problems
}

// resolve makes the endpoints' TLS file paths relative to the config file's directory and
// fills the keys an endpoint leaves out with their defaults, so --print-config shows them.
func (c *ForwardConfig) resolve(dir string) {
	for i := range c.OTLP {
		e := &c.OTLP[i]
		e.TLS.resolvePaths(dir)
		d := defaultForwardEndpoint()
		if e.Protocol == "" {
			e.Protocol = d.Protocol
		}
		if e.Compression == "" {
			e.Compression = d.Compression
		}
		if len(e.Signals) == 0 {
			e.Signals = d.Signals
		}
		if e.Queue.MaxSize == 0 {
			e.Queue.MaxSize = d.Queue.MaxSize
		}
		if e.Queue.OnFull == "" {
			e.Queue.OnFull = d.Queue.OnFull
		}
		if e.Timeout == 0 {
			e.Timeout = d.Timeout
		}
		if e.RetryInitialInterval == 0 {
			e.RetryInitialInterval = d.RetryInitialInterval
		}
		if e.RetryMaxInterval == 0 {
			e.RetryMaxInterval = d.RetryMaxInterval
		}
		if e.MaxBatchSize == 0 {
			e.MaxBatchSize = d.MaxBatchSize
		}
	}
}

// defaultForwardEndpoint is what an endpoint's omitted keys mean (README: Configuration
// reference).
func defaultForwardEndpoint() ForwardOTLPConfig {
	return ForwardOTLPConfig{
		Protocol:             "grpc",
		Compression:          "gzip",
		Signals:              []string{"traces", "logs", "metrics"},
		Queue:                ForwardQueue{MaxSize: units.GiB, OnFull: "drop_oldest"},
		Timeout:              model.Duration(10 * time.Second),
		RetryInitialInterval: model.Duration(time.Second),
		RetryMaxInterval:     model.Duration(30 * time.Second),
		MaxBatchSize:         2 * units.MiB,
	}
}

// endpointOptions is every endpoint as forward's options.
func (c *ForwardConfig) endpointOptions() ([]forward.EndpointOptions, error) {
	var out []forward.EndpointOptions
	for i := range c.OTLP {
		o, problems := c.OTLP[i].options(true)
		if len(problems) > 0 {
			return nil, fmt.Errorf("forward.otlp[%d].%s: %s", i, problems[0].field, problems[0].msg)
		}
		out = append(out, o)
	}
	return out, nil
}
