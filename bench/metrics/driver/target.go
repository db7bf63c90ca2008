package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/vigilhq/vigil/bench/internal/proc"
)

// target is one system under test, run as a child process on loopback.
type target struct {
	name string
	// args are the command line for data directory dir; conf is a scratch directory for
	// configuration files.
	args      func(dir, conf string) ([]string, error)
	port      int
	readyPath string
	otlpURL   string // "" when the target has no OTLP metrics receiver
	promTSDB  func(dir string) string
	vm        bool
}

func (t *target) base() string       { return fmt.Sprintf("http://127.0.0.1:%d", t.port) }
func (t *target) writeURL() string   { return t.base() + "/api/v1/write" }
func (t *target) readyURL() string   { return t.base() + t.readyPath }
func (t *target) metricsURL() string { return t.base() + "/metrics" }

func newTargets(c config) map[string]*target {
	return map[string]*target{
		"vigil": {
			name: "vigil", port: c.basePort, readyPath: "/readyz",
			otlpURL: fmt.Sprintf("http://127.0.0.1:%d/v1/metrics", c.basePort+2),
			args: func(dir, conf string) ([]string, error) {
				// Vigil scrapes itself (job "vigil") at wall-clock time, which would move its
				// head past the simulated history and reject it as out of bounds; an interval
				// of 10000h means that first scrape practically never comes. Prometheus is run
				// with no scrape jobs, so neither scrapes anything.
				cfg := filepath.Join(conf, "vigil.yml")
				if err := os.WriteFile(cfg, []byte("self_metrics:\n  interval: 10000h\n"), 0o644); err != nil {
					return nil, err
				}
				return []string{c.vigilBin, "--config", cfg, "--data-dir", dir, "--log-level", "warn",
					"--http-listen", fmt.Sprintf("127.0.0.1:%d", c.basePort),
					"--otlp-grpc-listen", fmt.Sprintf("127.0.0.1:%d", c.basePort+1),
					"--otlp-http-listen", fmt.Sprintf("127.0.0.1:%d", c.basePort+2)}, nil
			},
			promTSDB: func(dir string) string { return filepath.Join(dir, "metrics") },
		},
		"prometheus": {
			name: "prometheus", port: c.basePort + 10, readyPath: "/-/ready",
			args: func(dir, conf string) ([]string, error) {
				cfg := filepath.Join(conf, "prometheus.yml")
				if err := os.WriteFile(cfg, []byte("global:\n  scrape_interval: 15s\nscrape_configs: []\n"), 0o644); err != nil {
					return nil, err
				}
				return []string{c.prometheusBin, "--config.file=" + cfg, "--storage.tsdb.path=" + dir,
					fmt.Sprintf("--web.listen-address=127.0.0.1:%d", c.basePort+10),
					"--web.enable-remote-write-receiver", "--storage.tsdb.retention.time=15d", "--log.level=warn"}, nil
			},
			promTSDB: func(dir string) string { return dir },
		},
		"victoriametrics": {
			name: "victoriametrics", port: c.basePort + 20, readyPath: "/health", vm: true,
			otlpURL: fmt.Sprintf("http://127.0.0.1:%d/opentelemetry/v1/metrics", c.basePort+20),
			args: func(dir, _ string) ([]string, error) {
				// The rollup result cache would answer the repeated query from memory;
				// Prometheus and Vigil have no such cache, so it is off (see README).
				return append([]string{c.vmBin, "-storageDataPath=" + dir,
					fmt.Sprintf("-httpListenAddr=127.0.0.1:%d", c.basePort+20),
					"-retentionPeriod=1M", "-loggerLevel=WARN"}, c.vmFlags...), nil
			},
		},
	}
}

// start runs t on dir, logging to log, and waits until it answers ready. It returns the
// process and the time from exec to the first ready answer.
func start(ctx context.Context, t *target, dir, conf, log string, timeout time.Duration) (*proc.Proc, time.Duration, error) {
	args, err := t.args(dir, conf)
	if err != nil {
		return nil, 0, fmt.Errorf("configure %s: %w", t.name, err)
	}
	return proc.Start(ctx, proc.Spec{Name: t.name, Args: args, ReadyURL: t.readyURL(), Ports: []int{t.port}}, log, timeout)
}
