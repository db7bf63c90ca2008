package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
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

// proc is a running target.
type proc struct {
	t       *target
	cmd     *exec.Cmd
	exited  chan struct{}
	started time.Time
}

// procs are the running children, killed by killAll on the way out.
var (
	procsMu sync.Mutex
	procs   = map[*proc]bool{}
)

func killAll() {
	procsMu.Lock()
	defer procsMu.Unlock()
	for p := range procs {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
		delete(procs, p)
	}
}

// start runs t on dir, logging to log, and waits until it answers ready. It returns the
// process and the time from exec to the first ready answer.
func start(ctx context.Context, t *target, dir, conf, log string, timeout time.Duration) (*proc, time.Duration, error) {
	args, err := t.args(dir, conf)
	if err != nil {
		return nil, 0, fmt.Errorf("configure %s: %w", t.name, err)
	}
	if err := portFree(t.port); err != nil {
		return nil, 0, fmt.Errorf("start %s: %w", t.name, err)
	}
	lf, err := os.OpenFile(log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, 0, err
	}
	defer lf.Close()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p := &proc{t: t, cmd: cmd, exited: make(chan struct{})}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, 0, fmt.Errorf("start %s: %w", t.name, err)
	}
	procsMu.Lock()
	procs[p] = true
	procsMu.Unlock()
	go func() { _ = cmd.Wait(); close(p.exited) }()

	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return p, 0, ctx.Err()
		case <-p.exited:
			return p, 0, fmt.Errorf("%s exited while starting (see %s)", t.name, log)
		case <-time.After(20 * time.Millisecond):
		}
		resp, err := client.Get(t.readyURL())
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, time.Since(p.started), nil
			}
		}
	}
	return p, 0, fmt.Errorf("%s not ready after %s (see %s)", t.name, timeout, log)
}

// stop sends SIGTERM and waits for the exit; after timeout it kills the process group.
func (p *proc) stop(timeout time.Duration) (time.Duration, error) {
	t0 := time.Now()
	defer func() {
		procsMu.Lock()
		delete(procs, p)
		procsMu.Unlock()
	}()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return time.Since(t0), nil
	case <-time.After(timeout):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
		return time.Since(t0), fmt.Errorf("%s did not stop within %s; killed", p.t.name, timeout)
	}
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func portFree(port int) error {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if err == nil {
		c.Close()
		return fmt.Errorf("127.0.0.1:%d is already in use (set BASE_PORT)", port)
	}
	return nil
}
