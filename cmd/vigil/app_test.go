package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/vigilhq/vigil/internal/lifecycle"
)

// testConfig is a configuration on free loopback ports and a fresh data directory.
func testConfig(t *testing.T) Config {
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.HTTPListen = "127.0.0.1:0"
	cfg.OTLPGRPCListen = "127.0.0.1:0"
	cfg.OTLPHTTPListen = "127.0.0.1:0"
	cfg.SelfMetrics.Interval = model.Duration(time.Second) // the self-scrape shows up quickly
	return cfg
}

func newTestApp(t *testing.T, c cli, cfg Config) *app {
	t.Helper()
	level := new(slog.LevelVar)
	a, err := newApp(c, cfg, slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: level})), level)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// startApp runs a in the background; the returned stop cancels it and returns run's error.
func startApp(t *testing.T, a *app) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(60 * time.Second):
				// A bound, not a timing: under -race on a loaded 2-core machine a stop that
				// flushes stores and waits for rule evaluations has taken over 15s.
				t.Fatal("run did not return within 60s of cancel")
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

func waitAddr(t *testing.T, a *app) string {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if addr := a.front.Addr(); addr != nil {
			return "http://" + addr.String()
		}
	}
	t.Fatal("main HTTP server never listened")
	return ""
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestReadinessWhileAComponentStarts(t *testing.T) {
	a := newTestApp(t, cli{}, testConfig(t))
	release := make(chan struct{})
	a.mgr.Add(lifecycle.Component{Name: "metrics-store", Start: func(context.Context) error {
		<-release // a WAL replay that takes a while
		return nil
	}})
	stop := startApp(t, a)
	base := waitAddr(t, a)

	code, body := get(t, base+"/readyz")
	if code != 503 || !strings.Contains(body, "metrics-store") {
		t.Fatalf("/readyz during start = %d %q, want 503 naming metrics-store", code, body)
	}
	if code, _ := get(t, base+"/healthz"); code != 200 {
		t.Fatalf("/healthz during start = %d, want 200", code)
	}
	if code, _ := get(t, base+"/"); code != 503 {
		t.Fatalf("/ during start = %d, want 503", code)
	}
	close(release)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if code, _ = get(t, base+"/readyz"); code == 200 || time.Now().After(deadline) {
			break
		}
	}
	if code != 200 {
		t.Fatalf("/readyz after start = %d", code)
	}
	code, body = get(t, base+"/metrics")
	for _, want := range []string{"vigil_build_info{", `vigil_store_size_bytes{store="metrics"}`, `vigil_http_requests_total{server="main",handler="/readyz",code="503"}`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if code != 200 {
		t.Fatalf("/metrics = %d", code)
	}
	if err := stop(); err != nil {
		t.Fatalf("clean stop returned %v", err)
	}
}

func TestStartAndStopOrder(t *testing.T) {
	a := newTestApp(t, cli{}, testConfig(t))
	var mu sync.Mutex
	var events []string
	rec := func(e string) { mu.Lock(); events = append(events, e); mu.Unlock() }
	for _, name := range []string{"store", "router"} {
		a.mgr.Add(lifecycle.Component{
			Name:  name,
			Start: func(context.Context) error { rec("start " + name); return nil },
			Stop: func(context.Context) error {
				// The main HTTP listener must already be closed when components stop.
				if _, err := http.Get("http://" + a.front.Addr().String() + "/healthz"); err == nil {
					rec("http still open at stop " + name)
				}
				rec("stop " + name)
				return nil
			},
		})
	}
	stop := startApp(t, a)
	base := waitAddr(t, a)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if code, _ := get(t, base+"/readyz"); code == 200 {
			break
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	want := "start store,start router,stop router,stop store"
	if got := strings.Join(events, ","); got != want {
		t.Fatalf("events = %s, want %s", got, want)
	}
}

func TestFailedStartStopsWhatStartedAndReturnsTheCause(t *testing.T) {
	cfg := testConfig(t)
	// Take the OTLP gRPC port so the otlp component fails to bind.
	busy := newTestApp(t, cli{}, testConfig(t))
	stopBusy := startApp(t, busy)
	waitAddr(t, busy)
	for busy.otlp.GRPCAddr() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	cfg.OTLPGRPCListen = busy.otlp.GRPCAddr().String()
	a := newTestApp(t, cli{}, cfg)
	err := a.run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "start otlp") || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("run = %v, want a start otlp error naming the busy address", err)
	}
	if err := stopBusy(); err != nil {
		t.Fatal(err)
	}
}

func TestDataDirIsLocked(t *testing.T) {
	cfg := testConfig(t)
	a := newTestApp(t, cli{}, cfg)
	defer a.dir.Close()
	level := new(slog.LevelVar)
	_, err := newApp(cli{}, cfg, slog.New(slog.DiscardHandler), level)
	if err == nil || !strings.Contains(err.Error(), "in use by another vigil") {
		t.Fatalf("second open = %v, want in-use error", err)
	}
	for _, sub := range storeDirs {
		if st, err := os.Stat(filepath.Join(cfg.DataDir, sub)); err != nil || !st.IsDir() {
			t.Errorf("store directory %s missing: %v", sub, err)
		}
	}
}

func TestReloadAppliesLogLevelAndRefusesABadFile(t *testing.T) {
	cfg := testConfig(t)
	path := writeConfig(t, "log_level: info\ndata_dir: "+cfg.DataDir+"\nhttp_listen: 127.0.0.1:0\notlp_grpc_listen: 127.0.0.1:0\notlp_http_listen: 127.0.0.1:0\n")
	c, err := parseArgs([]string{"--config", path}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err = c.load()
	if err != nil {
		t.Fatal(err)
	}
	a := newTestApp(t, c, cfg)
	startApp(t, a)
	base := waitAddr(t, a)

	rewrite := func(body string) {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	reload := func() (int, string) {
		resp, err := http.Post(base+"/-/reload", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	rewrite("log_level: debug\ndata_dir: " + cfg.DataDir + "\n")
	if code, body := reload(); code != 200 {
		t.Fatalf("reload = %d %s", code, body)
	}
	if a.logLevel.Level() != slog.LevelDebug {
		t.Fatalf("log level after reload = %v, want debug", a.logLevel.Level())
	}
	rewrite("log_level: debug\nlog_levle: info\n")
	code, body := reload()
	if code != 500 || !strings.Contains(body, `line 2: key "log_levle"`) {
		t.Fatalf("bad reload = %d %q", code, body)
	}
	if a.logLevel.Level() != slog.LevelDebug {
		t.Fatal("a refused reload changed the log level")
	}
	_, metrics := get(t, base+"/metrics")
	if !strings.Contains(metrics, "vigil_config_last_reload_successful 0") {
		t.Errorf("/metrics does not show the failed reload")
	}
}

// configIn writes dir/vigil.yml (data in dir/data, every listener on a free loopback port,
// then extra YAML) and loads it as `vigil --config dir/vigil.yml` would: relative paths in
// extra are relative to dir.
func configIn(t *testing.T, dir, extra string) (cli, Config) {
	t.Helper()
	path := filepath.Join(dir, "vigil.yml")
	body := "data_dir: " + filepath.Join(dir, "data") +
		"\nhttp_listen: 127.0.0.1:0\notlp_grpc_listen: 127.0.0.1:0\notlp_http_listen: 127.0.0.1:0\n" + extra
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := parseArgs([]string{"--config", path}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := c.load()
	if err != nil {
		t.Fatal(err)
	}
	return c, cfg
}

// A reload cannot apply what is read only at start-up; it names those keys in a warning.
func TestRestartOnlyChanges(t *testing.T) {
	base := DefaultConfig()
	for _, tc := range []struct {
		name   string
		change func(c *Config)
		want   []string
	}{
		{"nothing", func(*Config) {}, nil},
		{"rules only", func(c *Config) { c.Alerting.RuleFiles = []string{"x.yml"} }, nil},
		{"cluster peers", func(c *Config) { c.Alerting.Cluster.Peers = []string{"10.0.0.2:9094"} }, []string{"alerting.cluster"}},
		{"listen", func(c *Config) { c.HTTPListen = "127.0.0.1:9800" }, []string{"http_listen"}},
	} {
		cur := DefaultConfig()
		tc.change(&cur)
		if got := restartOnlyChanges(base, cur); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
