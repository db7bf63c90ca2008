package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/units"
	config_util "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/vigilhq/vigil/alerting"
	"github.com/vigilhq/vigil/slo"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "vigil.yml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadGoodFile(t *testing.T) {
	c, err := parseArgs([]string{"--config", "testdata/good.yml"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := c.load()
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		DataDir:         "/var/lib/vigil",
		HTTPListen:      "0.0.0.0:9800",
		OTLPGRPCListen:  "127.0.0.1:14317",
		OTLPHTTPListen:  "127.0.0.1:14318",
		LogLevel:        "debug",
		LogFormat:       "json",
		ShutdownTimeout: model.Duration(20 * time.Second),
		MemoryLimit:     "3GiB",
		MinFreeDisk:     units.GiB,
		OTLP:            OTLPConfig{MaxRequestSize: 8 * units.MiB},
		SelfMetrics:     SelfMetricsConfig{Interval: model.Duration(30 * time.Second)},
		Metrics: MetricsConfig{
			Retention:           model.Duration(30 * 24 * time.Hour),
			RetentionSize:       10 * units.GiB,
			OutOfOrderWindow:    model.Duration(time.Hour),
			MaxExemplars:        5000,
			QueryTimeout:        model.Duration(30 * time.Second),
			QueryMaxSamples:     1_000_000,
			QueryMaxConcurrency: 4,
			LookbackDelta:       model.Duration(2 * time.Minute),
			MaxRequestSize:      16 * units.MiB,
			MaxSeriesPerRequest: 5000,
			MaxActiveSeries:     40000,
			ScrapeInterval:      model.Duration(30 * time.Second),
			ScrapeTimeout:       model.Duration(5 * time.Second),
		},
		Logs: LogsConfig{
			Retention:           model.Duration(14 * 24 * time.Hour),
			RetentionSize:       20 * units.GiB,
			Partition:           model.Duration(2 * time.Hour),
			FlushInterval:       model.Duration(5 * time.Second),
			MaxLineSize:         64 * units.KiB,
			MaxRequestSize:      8 * units.MiB,
			MaxLinesPerRequest:  20000,
			QueryTimeout:        model.Duration(30 * time.Second),
			QueryMaxConcurrency: 3,
		},
		Traces: TracesConfig{
			Retention:               model.Duration(3 * 24 * time.Hour),
			RetentionSize:           5 * units.GiB,
			MaxFutureSkew:           model.Duration(5 * time.Minute),
			MaxRequestSize:          4 * units.MiB,
			MaxAttributesPerSpan:    64,
			MaxAttributeValueLength: 2 * units.KiB,
			MaxSpansPerRequest:      5000,
			SpanMetrics:             SpanMetricsConfig{FlushInterval: model.Duration(30 * time.Second), MaxSeries: 500},
			QueryTimeout:            model.Duration(20 * time.Second),
			QueryMaxConcurrency:     2,
		},
		Alerting: AlertingConfig{
			RuleFiles:             []string{absTestdata(t, "rules/*.yml")},
			EvaluationInterval:    model.Duration(30 * time.Second),
			ExternalURL:           "https://vigil.example.com",
			ExternalLabels:        map[string]string{"cluster": "eu-1"},
			ConfigFile:            absTestdata(t, "alertmanager.yml"),
			DataRetention:         model.Duration(240 * time.Hour),
			Slack:                 SlackConfig{WebhookURL: "https://hooks.slack.com/services/T/B/X", Channel: "#alerts"},
			PagerDuty:             PagerDutyConfig{RoutingKey: "0123456789abcdef0123456789abcdef"},
			BusinessHoursTimezone: "Europe/Paris",
			EscalationPolicies: []alerting.EscalationPolicy{{Name: "oncall",
				Steps: []alerting.EscalationStep{{After: model.Duration(15 * time.Minute), Receiver: "secondary"}}}},
			Cluster: AlertingClusterConfig{
				Listen: "0.0.0.0:9094", Advertise: "10.0.0.1:9094", Peers: []string{"vigil-b.example.com:9094"},
				PeerTimeout: model.Duration(10 * time.Second), GossipInterval: model.Duration(100 * time.Millisecond),
				PushPullInterval: model.Duration(30 * time.Second), SettleTimeout: model.Duration(20 * time.Second),
				TLSConfigFile: absTestdata(t, "cluster-tls.yml"), Label: "eu-1",
			},
		},
		SLO: SLOConfig{
			Files: []string{absTestdata(t, "slos/*.yml")},
			GoldenSignals: func() slo.GoldenSignals {
				g := slo.DefaultGoldenSignals()
				g.Errors = slo.Signal{Threshold: 0.05, For: model.Duration(10 * time.Minute), Severity: "critical"}
				g.Services = []slo.ServiceSignals{{Name: "batch", Disabled: true}}
				return g
			}(),
		},
		Web: WebConfig{DashboardsDir: absTestdata(t, "dashboards")},
		Auth: AuthConfig{
			Tokens: []TokenConfig{
				{Name: "grafana", TokenFile: absTestdata(t, "secrets/grafana.token"), Scopes: []string{"read"}},
				{Name: "shipper", Token: "inline-ingest-token", Scopes: []string{"ingest"}},
			},
			BasicUsers: []BasicUserConfig{{Username: "prometheus", PasswordFile: "/etc/vigil/prometheus.password", Scopes: []string{"ingest"}}},
			SessionTTL: model.Duration(time.Hour),
		},
		TLS: TLSConfig{CertFile: absTestdata(t, "tls/vigil.crt"), KeyFile: absTestdata(t, "tls/vigil.key"), ClientCAFile: "/etc/vigil/clients.pem"},
		Query: QueryConfig{MetricsSources: []MetricsSourceConfig{{
			Name: "thanos", URL: "http://thanos-query:9090", Headers: map[string]string{"X-Scope-OrgID": "team-a"},
			Timeout: model.Duration(20 * time.Second), ReadRecent: true,
			HTTPClientConfig: func() config_util.HTTPClientConfig {
				h := config_util.DefaultHTTPClientConfig
				h.BasicAuth = &config_util.BasicAuth{Username: "vigil", Password: "secret"}
				return h
			}(),
		}}},
		Forward: ForwardConfig{OTLP: []ForwardOTLPConfig{{
			Name: "tempo", Protocol: "http/protobuf", Endpoint: "https://tempo.example:4318",
			TracesURL: "https://tempo.example:4318/v1/traces", LogsURL: "https://loki.example/otlp/v1/logs",
			MetricsURL: "https://mimir.example/otlp/v1/metrics", Headers: map[string]string{"X-Scope-OrgID": "team-a"},
			TLS: ForwardTLSConfig{CAFile: absTestdata(t, "tls/vigil.crt"), CertFile: absTestdata(t, "tls/vigil.crt"),
				KeyFile: absTestdata(t, "tls/vigil.key"), ServerName: "tempo.example"},
			Compression: "none", Signals: []string{"traces", "logs"},
			Include:              []ForwardMatcher{{Attribute: "service.name", Value: "checkout"}},
			Exclude:              []ForwardMatcher{{Attribute: "level", Regex: "debug|trace"}},
			Queue:                ForwardQueue{MaxSize: 2 * units.GiB, OnFull: "backpressure"},
			Timeout:              model.Duration(20 * time.Second),
			RetryInitialInterval: model.Duration(2 * time.Second),
			RetryMaxInterval:     model.Duration(time.Minute),
			MaxBatchSize:         4 * units.MiB,
		}, func() ForwardOTLPConfig { // the defaults fill what an endpoint leaves out
			e := defaultForwardEndpoint()
			e.Name, e.Endpoint = "collector", "otel-collector:4317"
			return e
		}()}},
	}
	rw, err := cfg.RemoteWrite.PrometheusConfig()
	if err != nil {
		t.Fatal(err)
	}
	if len(rw.RemoteWriteConfigs) != 1 || rw.RemoteWriteConfigs[0].Name != "mimir" || rw.RemoteWriteConfigs[0].QueueConfig.MaxShards != 10 ||
		rw.RemoteWriteConfigs[0].HTTPClientConfig.BasicAuth.PasswordFile != absTestdata(t, "secrets/grafana.token") {
		t.Fatalf("remote_write = %+v, want mimir with max_shards 10 and a password file relative to the config file", rw.RemoteWriteConfigs)
	}
	cfg.RemoteWrite = RemoteWriteConfigs{}
	pc, err := cfg.Metrics.PrometheusConfig()
	if err != nil {
		t.Fatal(err)
	}
	if len(pc.ScrapeConfigs) != 1 || pc.ScrapeConfigs[0].JobName != "node" ||
		pc.ScrapeConfigs[0].ScrapeInterval != model.Duration(30*time.Second) {
		t.Fatalf("scrape configs = %+v, want job node every 30s (the global interval)", pc.ScrapeConfigs)
	}
	cfg.Metrics.ScrapeConfigs = ScrapeConfigs{}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("config =\n%+v\nwant\n%+v", cfg, want)
	}
}

// absTestdata is the absolute path of a file under testdata: relative paths in a config file
// are resolved against the file's directory.
func absTestdata(t *testing.T, rel string) string {
	t.Helper()
	abs, err := filepath.Abs(filepath.Join("testdata", rel))
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func TestLoadErrorsNameFileLineAndKey(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		flags []string
		want  []string // substrings of the error
	}{
		{
			name: "unknown top-level key",
			file: "data_dir: ./d\nretention: 7d\n",
			want: []string{"line 2", `key "retention"`, "unknown key"},
		},
		{
			name: "unknown nested key with a suggestion",
			file: "otlp:\n  max_reqest_size: 1MiB\n",
			want: []string{"line 2", `key "otlp.max_reqest_size"`, `did you mean "max_request_size"`},
		},
		{
			name: "wrong type",
			file: "shutdown_timeout: soon\n",
			want: []string{"line 1", `key "shutdown_timeout"`, "not a valid duration"},
		},
		{
			name: "section is not a mapping",
			file: "otlp: 12\n",
			want: []string{"line 1", `key "otlp"`, "expected a mapping"},
		},
		{
			name: "invalid value caught by validation",
			file: "data_dir: ./d\n\nlog_format: xml\n",
			want: []string{"line 3", `key "log_format"`, `"xml" is not one of json, logfmt`},
		},
		{
			name: "bad size",
			file: "otlp:\n  max_request_size: -3MiB\n",
			want: []string{"line 2", `key "otlp.max_request_size"`},
		},
		{
			name: "memory limit too small",
			file: "memory_limit: 1MiB\n",
			want: []string{"line 1", `key "memory_limit"`, "at least 64MiB"},
		},
		{
			name:  "memory limit from a flag",
			flags: []string{"--memory-limit", "lots"},
			want:  []string{"flag --memory-limit", `"lots" is not "auto"`},
		},
		{
			name:  "invalid value from a flag names the flag",
			file:  "log_level: info\n",
			flags: []string{"--log-level", "loud"},
			want:  []string{"flag --log-level", `"loud" is not one of`},
		},
		{
			name: "alerting cluster peers without a listen address",
			file: "alerting:\n  cluster:\n    peers: [127.0.0.1:9094]\n",
			want: []string{"line 3", `key "alerting.cluster.peers"`, "needs alerting.cluster.listen"},
		},
		{
			name: "alerting cluster address without a port",
			file: "alerting:\n  cluster:\n    listen: 127.0.0.1\n",
			want: []string{`key "alerting.cluster.listen"`, "missing port"},
		},
		{
			name: "alerting cluster advertises a name",
			file: "alerting:\n  cluster:\n    listen: 0.0.0.0:9094\n    advertise: vigil-a:9094\n",
			want: []string{"line 4", `key "alerting.cluster.advertise"`, "not an IP address"},
		},
		{
			name: "broken YAML",
			file: "data_dir: [unclosed\n",
			want: []string{"vigil.yml", "line"},
		},
		{
			name: "every error at once",
			file: "foo: 1\nbar: 2\n",
			want: []string{`line 1: key "foo"`, `line 2: key "bar"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.file)
			c, err := parseArgs(append([]string{"--config", path}, tt.flags...), &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.load()
			if err == nil {
				t.Fatal("load succeeded, want an error")
			}
			if !strings.Contains(err.Error(), path) && !strings.Contains(tt.name, "flag") {
				t.Errorf("error does not name the file %s: %v", path, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestFlagsOverrideFileOverrideDefaults(t *testing.T) {
	path := writeConfig(t, "data_dir: /from/file\nlog_level: warn\n")
	c, err := parseArgs([]string{"--config", path, "--data-dir", "/from/flag", "--otlp-http-listen=127.0.0.1:1"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := c.load()
	if err != nil {
		t.Fatal(err)
	}
	def := DefaultConfig()
	if cfg.DataDir != "/from/flag" || cfg.LogLevel != "warn" || cfg.OTLPHTTPListen != "127.0.0.1:1" || cfg.HTTPListen != def.HTTPListen {
		t.Fatalf("got %+v", cfg)
	}
}

func TestEveryFlagIsAConfigKey(t *testing.T) {
	// The flags are a view onto the file's keys: each must decode from YAML by that key.
	for _, f := range cliFlags {
		path := writeConfig(t, f.key+": 127.0.0.1:7\n")
		var cfg Config = DefaultConfig()
		if _, err := decodeConfigFile(path, &cfg); err != nil {
			t.Errorf("flag --%s: key %s does not decode: %v", flagName(f.key), f.key, err)
		}
		if got := *f.field(&cfg); got != "127.0.0.1:7" {
			t.Errorf("key %s set %q through the file, the flag's field did not see it", f.key, got)
		}
	}
}

func TestPrintConfigRoundTrips(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--config", "testdata/good.yml", "--print-config"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	printed := writeConfig(t, out.String())
	c, _ := parseArgs([]string{"--config", printed}, &bytes.Buffer{})
	got, err := c.load()
	if err != nil {
		t.Fatalf("printed config does not load: %v\n%s", err, out.String())
	}
	c2, _ := parseArgs([]string{"--config", "testdata/good.yml"}, &bytes.Buffer{})
	want, _ := c2.load()
	if !sameConfig(t, got, want) {
		t.Fatalf("round trip changed the config:\n%+v\n%+v", got, want)
	}
}

// sameConfig compares two configurations as YAML (so an empty list equals a missing one),
// their scrape jobs by what Prometheus loads from them.
func sameConfig(t *testing.T, a, b Config) bool {
	t.Helper()
	text := func(c Config) string {
		pc, err := c.Metrics.PrometheusConfig()
		if err != nil {
			t.Fatal(err)
		}
		jobs, err := yaml.Marshal(pc.ScrapeConfigs)
		if err != nil {
			t.Fatal(err)
		}
		c.Metrics.ScrapeConfigs = ScrapeConfigs{}
		all, err := yaml.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		return string(jobs) + string(all)
	}
	ta, tb := text(a), text(b)
	if ta != tb {
		t.Logf("configs differ:\n%s\n---\n%s", ta, tb)
	}
	return ta == tb
}

func TestScrapeConfigErrorsAreLocated(t *testing.T) {
	tests := []struct {
		name string
		file string
		want []string
	}{
		{
			name: "unknown key inside a job, at its own line",
			file: "log_level: info\nmetrics:\n  scrape_configs:\n    - job_name: a\n      static_configs:\n        - targets: [x:1]\n      scrape_intervl: 5s\n",
			want: []string{"line 7", `key "metrics.scrape_configs"`, "scrape_intervl"},
		},
		{
			name: "duplicate job names",
			file: "metrics:\n  scrape_configs:\n    - job_name: a\n    - job_name: a\n",
			want: []string{"line 2", `multiple scrape configs with job name "a"`},
		},
		{
			name: "timeout longer than interval",
			file: "metrics:\n  scrape_interval: 5s\n  scrape_timeout: 10s\n",
			want: []string{"line 3", `key "metrics.scrape_timeout"`, "longer than"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.file)
			c, _ := parseArgs([]string{"--config", path}, &bytes.Buffer{})
			_, err := c.load()
			if err == nil {
				t.Fatal("load succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestDefaultsAreValidAndMatchTheIssue(t *testing.T) {
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.DataDir != "./data" || cfg.HTTPListen != "127.0.0.1:9700" || cfg.OTLPGRPCListen != "127.0.0.1:4317" || cfg.OTLPHTTPListen != "127.0.0.1:4318" {
		t.Fatalf("defaults changed: %+v", cfg)
	}
}

func TestVersionCommand(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "vigil ") || !strings.Contains(out.String(), "go1.") {
		t.Fatalf("version output %q", out.String())
	}
}
