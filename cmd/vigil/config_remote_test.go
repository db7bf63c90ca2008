package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func TestRemoteConfigErrorsAreLocated(t *testing.T) {
	f := func(file string, want ...string) {
		t.Helper()
		path := writeConfig(t, file)
		c, _ := parseArgs([]string{"--config", path}, &bytes.Buffer{})
		_, err := c.load()
		if err == nil {
			t.Fatalf("%q loaded, want an error", file)
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q lacks %q", err, w)
			}
		}
	}
	// Prometheus's own checks, at the file's line.
	f("log_level: info\nremote_write:\n  - url: http://a/api/v1/write\n    queue_config: {max_shardz: 3}\n",
		"line 4", `key "remote_write"`, "max_shardz")
	f("remote_write:\n  - name: x\n    url: http://a/1\n  - name: x\n    url: http://a/2\n",
		`key "remote_write"`, `multiple remote write configs with job name "x"`)
	f("remote_write:\n  - name: nourl\n", `key "remote_write"`, "url")
	// Sources.
	f("query:\n  metrics_sources:\n    - {name: a, url: http://a:9090, timout: 5s}\n",
		"line 3", `key "query.metrics_sources"`, `unknown key "timout"`, `did you mean "timeout"`)
	f("query:\n  metrics_sources:\n    - {name: a, url: 'thanos:9090'}\n", `query.metrics_sources[0].url`, "not an http or https URL")
	f("query:\n  metrics_sources:\n    - {name: a, url: 'http://a'}\n    - {name: a, url: 'http://b'}\n", `query.metrics_sources[1].name`, "used by another source")
	f("query:\n  metrics_sources:\n    - {url: 'http://a'}\n", `query.metrics_sources[0].name`, "must not be empty")
	f("query:\n  metrics_sources:\n    - {name: a, url: 'http://a', bearer_token: x, basic_auth: {username: u, password: p}}\n",
		`query.metrics_sources[0]`, "at most one of basic_auth")
}

// A source's HTTP client settings default as prometheus/common's do; its timeout is 30s.
func TestMetricsSourceDefaults(t *testing.T) {
	path := writeConfig(t, "query:\n  metrics_sources:\n    - {name: a, url: 'http://a:9090', headers: {X-Scope-OrgID: t1}, tls_config: {ca_file: ca.pem}}\n")
	c, _ := parseArgs([]string{"--config", path}, &bytes.Buffer{})
	cfg, err := c.load()
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Query.MetricsSources[0]
	if s.Timeout != defaultSourceTimeout || !s.HTTPClientConfig.FollowRedirects || !s.HTTPClientConfig.EnableHTTP2 || s.ReadRecent || s.Headers["X-Scope-OrgID"] != "t1" {
		t.Fatalf("source = %+v", s)
	}
	if want := filepath.Join(filepath.Dir(path), "ca.pem"); s.HTTPClientConfig.TLSConfig.CAFile != want {
		t.Errorf("ca_file = %q, want %q (relative to the config file)", s.HTTPClientConfig.TLSConfig.CAFile, want)
	}
}

// metrics.retention may be short when a remote store holds the history.
func TestShortRetention(t *testing.T) {
	path := writeConfig(t, "metrics:\n  retention: 2d\n")
	c, _ := parseArgs([]string{"--config", path}, &bytes.Buffer{})
	cfg, err := c.load()
	if err != nil {
		t.Fatal(err)
	}
	var m metricsWiring
	if o := m.storeOptions(cfg.Metrics); o.Validate() != nil || o.RetentionTime.Hours() != 48 {
		t.Fatalf("retention 2d: %v, options %+v", o.Validate(), o)
	}
}
