package main

import (
	"fmt"
	"log/slog"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	promconfig "github.com/prometheus/prometheus/config"
	"go.yaml.in/yaml/v3"
)

// RemoteWriteConfigs is the top-level remote_write list in Prometheus's own format (url,
// headers, basic_auth, authorization, oauth2, sigv4, tls_config, queue_config,
// metadata_config, write_relabel_configs, name, ...). Like ScrapeConfigs it is kept as the
// file's text and handed to Prometheus's loader, so every field, default, check and error
// message is Prometheus's and its line numbers are the file's.
type RemoteWriteConfigs struct {
	Source string // YAML text whose line N is line N of the file it came from
	Dir    string // directory of that file, for relative credential and TLS file paths
}

func (s *RemoteWriteConfigs) setRawYAML(src, file string) {
	s.Source = src
	s.Dir = dirOf(file)
}

// MarshalYAML prints the list as it was written (for --print-config).
func (s RemoteWriteConfigs) MarshalYAML() (any, error) {
	var doc struct {
		RemoteWrite []any `yaml:"remote_write"`
	}
	if err := yaml.Unmarshal([]byte(s.Source), &doc); err != nil {
		return nil, fmt.Errorf("print remote_write: %w", err)
	}
	if doc.RemoteWrite == nil {
		return []any{}, nil
	}
	return doc.RemoteWrite, nil
}

// PrometheusConfig is the configuration Prometheus's remote storage applies: the remote_write
// list with Prometheus's defaults filled in, and no external labels (Vigil adds none to
// what it forwards, so series read back from the remote merge with the local ones).
func (s *RemoteWriteConfigs) PrometheusConfig() (*promconfig.Config, error) {
	cfg, err := promconfig.Load(s.Source, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	if s.Dir != "" {
		cfg.SetDirectory(s.Dir)
	}
	return cfg, nil
}

func (s *RemoteWriteConfigs) validate(bad func(key, format string, args ...any), badAt func(line int, key, msg string)) {
	if _, err := s.PrometheusConfig(); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n  ")
		msg = strings.TrimPrefix(msg, "yaml: ")
		if sm := yamlLineRE.FindStringSubmatchIndex(msg); sm != nil && sm[0] == 0 {
			line, _ := strconv.Atoi(msg[sm[2]:sm[3]])
			badAt(line, "remote_write", msg[sm[1]:])
			return
		}
		bad("remote_write", "%s", msg)
	}
}

// QueryConfig is where PromQL reads from besides the local store.
type QueryConfig struct {
	// MetricsSources are Prometheus-compatible query APIs (Prometheus, Thanos Query, Mimir,
	// Cortex, VictoriaMetrics) read together with the local store by the Prometheus API, the
	// alerting rules and the SLOs.
	MetricsSources []MetricsSourceConfig `yaml:"metrics_sources"`
}

// MetricsSourceConfig is one query API. Its HTTP client settings (basic_auth,
// authorization, oauth2, bearer_token, tls_config, proxy_url, follow_redirects,
// enable_http2, http_headers) are prometheus/common's HTTPClientConfig, as in a Prometheus
// remote_read block.
type MetricsSourceConfig struct {
	Name string `yaml:"name"`
	// URL is the API's base, before /api/v1 (e.g. http://mimir:8080/prometheus).
	URL string `yaml:"url"`
	// Headers are added to every request (e.g. X-Scope-OrgID for Mimir tenants).
	Headers map[string]string `yaml:"headers,omitempty"`
	// Timeout bounds one request to the source.
	Timeout model.Duration `yaml:"timeout"`
	// ReadRecent also asks the source for the time range the local store holds (as in
	// Prometheus's remote_read); off, only for what is older than the local oldest sample.
	ReadRecent bool `yaml:"read_recent"`

	HTTPClientConfig config.HTTPClientConfig `yaml:",inline"`
}

var typeOfMetricsSource = reflect.TypeFor[MetricsSourceConfig]()

// defaultSourceTimeout is a source's timeout when it sets none.
const defaultSourceTimeout = model.Duration(30e9)

// UnmarshalYAML fills in the defaults (a 30s timeout, prometheus/common's HTTP client
// defaults) under what the file says, and refuses unknown keys.
func (s *MetricsSourceConfig) UnmarshalYAML(n *yaml.Node) error {
	type plain MetricsSourceConfig
	p := plain{Timeout: defaultSourceTimeout, HTTPClientConfig: config.DefaultHTTPClientConfig}
	if n.Kind == yaml.MappingNode {
		fields := yamlFields(typeOfMetricsSource)
		for i := 0; i < len(n.Content); i += 2 {
			if _, ok := fields[n.Content[i].Value]; !ok {
				return fmt.Errorf("line %d: unknown key %q%s", n.Content[i].Line, n.Content[i].Value, suggest(n.Content[i].Value, fields))
			}
		}
	}
	if err := n.Decode(&p); err != nil {
		return err
	}
	*s = MetricsSourceConfig(p)
	return nil
}

// resolvePaths makes the sources' credential and TLS file paths relative to the config
// file's directory, as Prometheus does for its remote_read blocks.
func (q *QueryConfig) resolvePaths(dir string) {
	for i := range q.MetricsSources {
		q.MetricsSources[i].HTTPClientConfig.SetDirectory(dir)
	}
}

func (q *QueryConfig) validate(bad func(key, format string, args ...any)) {
	names := map[string]bool{}
	for i, s := range q.MetricsSources {
		key := fmt.Sprintf("query.metrics_sources[%d]", i)
		switch {
		case s.Name == "":
			bad(key+".name", "must not be empty")
		case names[s.Name]:
			bad(key+".name", "%q is used by another source", s.Name)
		}
		names[s.Name] = true
		if u, err := url.Parse(s.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(key+".url", "%q is not an http or https URL", s.URL)
		}
		if s.Timeout <= 0 {
			bad(key+".timeout", "must be positive")
		}
		if err := s.HTTPClientConfig.Validate(); err != nil {
			bad(key, "%v", err)
		}
	}
}
