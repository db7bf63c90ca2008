package main

import (
	"bytes"
	"compress/gzip"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
)

// Every forward.otlp value that cannot work is refused naming its key and line.
func TestForwardConfigErrorsNameTheKey(t *testing.T) {
	f := func(endpoint, want string) {
		t.Helper()
		path := writeConfig(t, "forward:\n  otlp:\n"+endpoint)
		c, err := parseArgs([]string{"--config", path}, &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.load()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s\ngot error %v\nwant one containing %q", endpoint, err, want)
		}
	}
	f("    - {name: a, endpoint: x:1, protocol: thrift}\n", `line 3: key "forward.otlp[0].protocol": "thrift" is not one of grpc, http/protobuf`)
	f("    - {name: a}\n", `key "forward.otlp[0].endpoint": required`)
	f("    - {name: a, endpoint: 'x:1:2'}\n", `key "forward.otlp[0].endpoint": "x:1:2" is not host:port`)
	f("    - {name: a, protocol: http/protobuf, endpoint: 'otel:4318'}\n", `key "forward.otlp[0].endpoint": "otel:4318" is not an http:// or https:// URL`)
	f("    - {name: a, protocol: http/protobuf, logs_url: 'http://vl/insert/opentelemetry/v1/logs'}\n", `key "forward.otlp[0].endpoint": required: no traces_url for signal traces`)
	f("    - {name: '../etc', endpoint: x:1}\n", `key "forward.otlp[0].name": "../etc"`)
	f("    - {name: a, endpoint: x:1}\n    - {name: a, endpoint: y:1}\n", `line 4: key "forward.otlp[1].name": "a" is used by another endpoint`)
	f("    - {name: a, endpoint: x:1, compression: zstd}\n", `key "forward.otlp[0].compression": "zstd" is not one of gzip, none`)
	f("    - {name: a, endpoint: x:1, signals: [traces, profiles]}\n", `key "forward.otlp[0].signals": "profiles" is not one of traces, logs, metrics`)
	f("    - {name: a, endpoint: x:1, queue: {on_full: block}}\n", `key "forward.otlp[0].queue.on_full": "block" is not one of drop_oldest, backpressure`)
	f("    - {name: a, endpoint: x:1, queue: {max_size: 1KiB}}\n", `key "forward.otlp[0].queue.max_size": at least 64KiB`)
	f("    - {name: a, endpoint: x:1, include: [{value: x}]}\n", `key "forward.otlp[0].include[0].attribute": must not be empty`)
	f("    - {name: a, endpoint: x:1, exclude: [{attribute: a, regex: '('}]}\n", `key "forward.otlp[0].exclude[0].regex": error parsing regexp`)
	f("    - {name: a, endpoint: x:1, exclude: [{attribute: a, value: b, regex: c}]}\n", `key "forward.otlp[0].exclude[0]": give value or regex, not both`)
	f("    - {name: a, endpoint: x:1, retry_initial_interval: 1m, retry_max_interval: 1s}\n", `key "forward.otlp[0].retry_initial_interval": 1m is longer`)
	f("    - {name: a, endpoint: x:1, tls: {cert_file: c.pem}}\n", `key "forward.otlp[0].tls": cert_file and key_file go together`)
	f("    - {name: a, endpoint: x:1, tls: {insecure: true, ca: x}}\n", `key "forward.otlp[0].tls.ca": unknown key`)
}

// A reload that changes forward.otlp restarts the senders: lines queued for an endpoint that
// was down reach the receiver the reload points the same endpoint at; one that fails to load
// changes nothing.
func TestForwardReload(t *testing.T) {
	dir := t.TempDir()
	dead := deadAddr(t)
	endpoint := func(addr string) string {
		return fmt.Sprintf("forward:\n  otlp:\n    - {name: b, endpoint: %q, tls: {insecure: true}, signals: [logs], retry_max_interval: 1s}\n", addr)
	}
	c, cfg := configIn(t, dir, endpoint(dead))
	a := newTestApp(t, c, cfg)
	startApp(t, a)
	base := waitAddr(t, a)
	eventually(t, "ready", func() bool { code, _ := get(t, base+"/readyz"); return code == 200 })
	now := time.Now()
	sendLines(t, base, logLines("reload", 0, 100, now))

	recv := startReceiver(t)
	reload := func(body string) (int, string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "vigil.yml"), []byte("data_dir: "+filepath.Join(dir, "data")+"\n"+body), 0o644); err != nil {
			t.Fatal(err)
		}
		resp, err := http.Post(base+"/-/reload", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	if code, body := reload(endpoint(recv.cfg.OTLPGRPCListen) + "http_listen: 127.0.0.1:0\n"); code != 200 {
		t.Fatalf("reload: %d %s", code, body)
	}
	waitFor(t, "the lines queued before the reload at the receiver", 30*time.Second, func() bool {
		_, total := logQuery(t, recv.base, "service:reload", now.Add(-time.Hour), now.Add(time.Hour))
		return total == 100
	})
	if code, body := reload("forward:\n  otlp:\n    - {name: b, endpoint: x:1, compression: lz4}\n"); code == 200 ||
		!strings.Contains(body, `forward.otlp[0].compression`) {
		t.Fatalf("bad reload: %d %s", code, body)
	}
	sendLines(t, base, logLines("reload", 100, 10, now))
	waitFor(t, "lines after a refused reload still forwarded", 30*time.Second, func() bool {
		_, total := logQuery(t, recv.base, "service:reload", now.Add(-time.Hour), now.Add(time.Hour))
		return total == 110
	})
}

// TestForwardOverTLS: an OTLP/HTTP endpoint behind TLS is reached with the CA from tls.ca_file
// (read when the endpoint starts) and gets the configured headers; without the CA the
// handshake fails and nothing is delivered.
func TestForwardOverTLS(t *testing.T) {
	var mu sync.Mutex
	records := 0
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		body, _ := io.ReadAll(zr)
		req := plogotlp.NewExportRequest()
		if err := req.UnmarshalProto(body); err != nil || r.URL.Path != "/otlp/v1/logs" || r.Header.Get("X-Scope-OrgID") != "team-a" {
			http.Error(w, fmt.Sprintf("bad request %s: %v", r.URL.Path, err), 400)
			return
		}
		mu.Lock()
		records += req.Logs().LogRecordCount()
		mu.Unlock()
	}))
	defer srv.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	ep := func(name string, tls ForwardTLSConfig) ForwardOTLPConfig {
		return fastRetry(ForwardOTLPConfig{Name: name, Protocol: "http/protobuf", Endpoint: srv.URL + "/otlp",
			Headers: map[string]string{"X-Scope-OrgID": "team-a"}, TLS: tls, Signals: []string{"logs"}})
	}
	_, base, _ := forwardApp(t, "", ep("tls", ForwardTLSConfig{CAFile: caFile}), ep("untrusted", ForwardTLSConfig{}))
	sendLines(t, base, logLines("tls", 0, 25, time.Now()))
	waitFor(t, "25 records over TLS", 30*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return records == 25
	})
	waitFor(t, "the untrusted endpoint retrying", 30*time.Second, func() bool {
		return selfMetric(t, base, `vigil_forward_retries_total{endpoint="untrusted",signal="logs"}`) > 0
	})
	if n := selfMetric(t, base, `vigil_forward_sent_total{endpoint="untrusted",signal="logs"}`); n != 0 {
		t.Errorf("%v records sent to a server whose certificate is not trusted", n)
	}
}

// TestForwardFilters: include and exclude from the config file pick the lines an endpoint gets
// (by resource and record attributes, values and anchored regexes); the local store keeps all.
func TestForwardFilters(t *testing.T) {
	var mu sync.Mutex
	got := map[string]int{} // service/level -> records
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		body, _ := io.ReadAll(zr)
		req := plogotlp.NewExportRequest()
		if err := req.UnmarshalProto(body); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for _, rl := range req.Logs().ResourceLogs().All() {
			svc, _ := rl.Resource().Attributes().Get("service.name")
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					got[svc.Str()+"/"+lr.SeverityText()]++
				}
			}
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	c, cfg := configIn(t, dir, fmt.Sprintf(`forward:
  otlp:
    - name: filtered
      protocol: http/protobuf
      endpoint: %s
      signals: [logs]
      retry_max_interval: 1s
      include: [{attribute: service.name, regex: 'check.*'}, {attribute: team, value: payments}]
      exclude: [{attribute: level, value: debug}]
`, srv.URL))
	a := newTestApp(t, c, cfg)
	startApp(t, a)
	base := waitAddr(t, a)
	eventually(t, "ready", func() bool { code, _ := get(t, base+"/readyz"); return code == 200 })
	var body strings.Builder
	now := time.Now()
	for _, l := range []struct{ svc, level, team string }{
		{"checkout", "error", ""}, {"checkout", "debug", ""}, {"checkout-v2", "info", ""},
		{"cart", "error", "payments"}, {"cart", "error", ""}, {"precheckout", "error", ""},
	} {
		fmt.Fprintf(&body, `{"ts":%q,"service":%q,"level":%q,"team":%q,"msg":"m"}`+"\n", now.Format(time.RFC3339Nano), l.svc, l.level, l.team)
	}
	sendLines(t, base, []byte(body.String()))
	want := map[string]int{"checkout/error": 1, "checkout-v2/info": 1, "cart/error": 1}
	waitFor(t, "the selected lines at the endpoint", 30*time.Second, func() bool {
		return selfMetric(t, base, `vigil_forward_sent_total{endpoint="filtered",signal="logs"}`) == 3
	})
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("endpoint got %v, want %v", got, want)
	}
	if _, total := logQuery(t, base, "m", now.Add(-time.Hour), now.Add(time.Hour)); total != 6 {
		t.Errorf("local store has %d lines, want all 6", total)
	}
}
