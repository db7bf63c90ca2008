package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// victoriaLogs is a VictoriaLogs single node on loopback (binary from VIGIL_TEST_VICTORIALOGS,
// which .ci/run installs), restartable on the same port and data to play an outage.
type victoriaLogs struct {
	bin, addr, dir string
	cmd            *exec.Cmd
}

func startVictoriaLogs(t *testing.T) *victoriaLogs {
	t.Helper()
	bin := os.Getenv("VIGIL_TEST_VICTORIALOGS")
	if bin == "" {
		t.Skip("VIGIL_TEST_VICTORIALOGS is not set: it names a victoria-logs binary (.ci/run installs v1.52.1)")
	}
	vl := &victoriaLogs{bin: bin, addr: deadAddr(t), dir: t.TempDir()}
	vl.start(t)
	t.Cleanup(func() { vl.stop(t) })
	return vl
}

func (vl *victoriaLogs) start(t *testing.T) {
	t.Helper()
	vl.cmd = exec.Command(vl.bin, "-httpListenAddr="+vl.addr, "-storageDataPath="+filepath.Join(vl.dir, "data"),
		"-loggerLevel=ERROR")
	vl.cmd.Stderr = os.Stderr
	if err := vl.cmd.Start(); err != nil {
		t.Fatalf("start VictoriaLogs: %v", err)
	}
	waitFor(t, "VictoriaLogs healthy", 30*time.Second, func() bool {
		resp, err := http.Get("http://" + vl.addr + "/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

func (vl *victoriaLogs) stop(t *testing.T) {
	t.Helper()
	if vl.cmd == nil {
		return
	}
	_ = vl.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = vl.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = vl.cmd.Process.Kill()
		<-done
	}
	vl.cmd = nil
}

// query runs a LogsQL query and returns its rows.
func (vl *victoriaLogs) query(t *testing.T, q string) []map[string]string {
	t.Helper()
	resp, err := http.PostForm("http://"+vl.addr+"/select/logsql/query", url.Values{"query": {q}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("LogsQL %q: %d %s", q, resp.StatusCode, b)
	}
	var rows []map[string]string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var row map[string]string
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatalf("LogsQL %q row %s: %v", q, sc.Bytes(), err)
		}
		rows = append(rows, row)
	}
	return rows
}

func (vl *victoriaLogs) count(t *testing.T, q string) int {
	t.Helper()
	rows := vl.query(t, q+" | stats count() n")
	if len(rows) != 1 {
		return 0
	}
	var n int
	fmt.Sscan(rows[0]["n"], &n)
	return n
}

// TestForwardLogsToVictoriaLogs: lines sent to Vigil over JSON lines and Loki push reach
// VictoriaLogs through its OTLP logs endpoint (OTLP/HTTP, gzip), every one of them with its
// fields, across a 10 s outage of VictoriaLogs.
func TestForwardLogsToVictoriaLogs(t *testing.T) {
	vl := startVictoriaLogs(t)
	_, base, _ := forwardApp(t, "", fastRetry(ForwardOTLPConfig{Name: "victorialogs", Protocol: "http/protobuf",
		Endpoint: "http://" + vl.addr + "/insert/opentelemetry", Signals: []string{"logs"}}))
	now := time.Now().Add(-time.Minute)
	lines := 0
	sendLines(t, base, logLines("checkout", 0, 300, now))
	lines += 300
	if code, resp := post(t, base+"/loki/api/v1/push", "application/json", []byte(fmt.Sprintf(
		`{"streams":[{"stream":{"service":"checkout","level":"warn"},"values":[["%d","loki line one"],["%d","loki line two"]]}]}`,
		now.UnixNano(), now.UnixNano()+1))); code != 204 {
		t.Fatalf("Loki push: %d %s", code, resp)
	}
	lines += 2
	waitFor(t, "the first lines in VictoriaLogs", 30*time.Second, func() bool {
		return vl.count(t, `"service.name":checkout`) == lines
	})

	vl.stop(t)
	outageEnd := time.Now().Add(10 * time.Second)
	for i := 1; time.Now().Before(outageEnd); i++ {
		sendLines(t, base, logLines("checkout", 1000*i, 50, now))
		lines += 50
		time.Sleep(200 * time.Millisecond)
	}
	vl.start(t)
	waitFor(t, "every line in VictoriaLogs", 60*time.Second, func() bool {
		return vl.count(t, `"service.name":checkout`) >= lines
	})
	if n := vl.count(t, `"service.name":checkout`); n != lines {
		t.Errorf("VictoriaLogs holds %d lines, %d were sent", n, lines)
	}

	rows := vl.query(t, `"service.name":checkout AND order:7`)
	if len(rows) != 1 {
		t.Fatalf("order:7 in VictoriaLogs: %v", rows)
	}
	want := map[string]string{"_msg": "payment failed 7", "severity_text": "error", "severity_number": "17", "service.name": "checkout", "order": "7",
		"http.status": "502", "trace_id": fmt.Sprintf("%032x", 8), "k8s.namespace.name": "shop",
		"request_id": fmt.Sprintf("%016x", requestIDOf(7))}
	for k, v := range want {
		if rows[0][k] != v {
			t.Errorf("VictoriaLogs field %s = %q, want %q (row %v)", k, rows[0][k], v, rows[0])
		}
	}
	if got := rows[0]["_time"]; !strings.HasPrefix(got, now.Add(7*time.Millisecond).UTC().Format("2006-01-02T15:04:05.000")) {
		t.Errorf("_time %q, want the line's own time %s", got, now.Add(7*time.Millisecond).UTC().Format(time.RFC3339Nano))
	}
	if rows := vl.query(t, `"loki line two"`); len(rows) != 1 || rows[0]["severity_text"] != "warn" {
		t.Errorf("Loki line in VictoriaLogs: %v", rows)
	}
	if selfMetric(t, base, `vigil_forward_retries_total{endpoint="victorialogs",signal="logs"}`) == 0 {
		t.Error("no retries counted across the outage")
	}
	if d := selfMetric(t, base, `vigil_forward_dropped_total{endpoint="victorialogs",signal="logs",reason="rejected"}`); d != 0 {
		t.Errorf("VictoriaLogs refused %v lines", d)
	}
	t.Logf("%d lines forwarded to VictoriaLogs across a 10 s outage", lines)
}
