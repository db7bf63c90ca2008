package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// victoriaMetrics is a VictoriaMetrics single-node on loopback, from the binary named by
// VIGIL_TEST_VICTORIAMETRICS (.ci/run installs it). It speaks the remote-write protocol its
// cluster's vminsert speaks and the Prometheus query API its vmselect serves.
type victoriaMetrics struct {
	t         *testing.T
	bin, dir  string
	addr      string
	cmd       *exec.Cmd
	exited    chan struct{}
	logFile   *os.File
	startedAt time.Time
}

func startVictoriaMetrics(t *testing.T) *victoriaMetrics {
	t.Helper()
	bin := os.Getenv("VIGIL_TEST_VICTORIAMETRICS")
	if bin == "" {
		t.Skip("VIGIL_TEST_VICTORIAMETRICS is not set: point it at a victoria-metrics binary " +
			"(go install github.com/VictoriaMetrics/VictoriaMetrics/app/victoria-metrics@v1.151.0; .ci/run does)")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("VIGIL_TEST_VICTORIAMETRICS: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	v := &victoriaMetrics{t: t, bin: bin, dir: t.TempDir(), addr: addr}
	v.start()
	t.Cleanup(func() {
		v.stop()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(v.dir, "vm.log"))
			t.Logf("victoria-metrics log (tail):\n%s", tail(b, 3000))
		}
	})
	return v
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func (v *victoriaMetrics) url() string { return "http://" + v.addr }

// start runs VictoriaMetrics on its address and data directory and waits for /health.
func (v *victoriaMetrics) start() {
	t := v.t
	t.Helper()
	f, err := os.OpenFile(filepath.Join(v.dir, "vm.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	v.logFile = f
	v.cmd = exec.Command(v.bin,
		"-storageDataPath="+filepath.Join(v.dir, "data"),
		"-httpListenAddr="+v.addr,
		"-retentionPeriod=100y",
		// Answer with what was just written: no 30s latency offset, no cached results.
		"-search.latencyOffset=0s",
		"-search.disableCache",
	)
	v.cmd.Stdout, v.cmd.Stderr = f, f
	if err := v.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	v.exited = make(chan struct{})
	go func(c *exec.Cmd, done chan struct{}) { _ = c.Wait(); close(done) }(v.cmd, v.exited)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(v.url() + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				v.startedAt = time.Now()
				return
			}
		}
		select {
		case <-v.exited:
			t.Fatalf("victoria-metrics exited at start")
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("victoria-metrics not healthy within 30s")
		}
	}
}

// stop shuts VictoriaMetrics down gracefully (SIGINT: it flushes what it holds).
func (v *victoriaMetrics) stop() {
	if v.cmd == nil {
		return
	}
	_ = v.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-v.exited:
	case <-time.After(30 * time.Second):
		_ = v.cmd.Process.Kill()
		<-v.exited
	}
	v.cmd = nil
	v.logFile.Close()
}

// flush makes recently ingested samples searchable at once.
func (v *victoriaMetrics) flush() {
	v.t.Helper()
	resp, err := http.Get(v.url() + "/internal/force_flush")
	if err != nil {
		v.t.Fatal(err)
	}
	resp.Body.Close()
}

// importLines writes samples in VictoriaMetrics' JSON line format (/api/v1/import).
func (v *victoriaMetrics) importLines(body []byte) {
	v.t.Helper()
	resp, err := http.Post(v.url()+"/api/v1/import", "application/json", bytes.NewReader(body))
	if err != nil {
		v.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(resp.Body)
		v.t.Fatalf("import: %d %s", resp.StatusCode, b)
	}
	v.flush()
}

// importLine is one series of /api/v1/import.
type importLine struct {
	Metric     map[string]string `json:"metric"`
	Values     []float64         `json:"values"`
	Timestamps []int64           `json:"timestamps"`
}

func importBody(t *testing.T, lines ...importLine) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, l := range lines {
		if err := json.NewEncoder(&b).Encode(l); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// instantQuery runs q at `at` against a Prometheus-compatible API and returns each series'
// value by its labels' string.
func instantQuery(t *testing.T, base, q string, at time.Time) (map[string]float64, http.Header) {
	t.Helper()
	res, hdr := promInstant(t, base, url.Values{"query": {q}, "time": {strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64)}})
	out := map[string]float64{}
	for ls, v := range res {
		f, err := strconv.ParseFloat(fmt.Sprint(v), 64)
		if err != nil {
			t.Fatalf("query %s: value %v", q, v)
		}
		out[ls] = f
	}
	return out, hdr
}
