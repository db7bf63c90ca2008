package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/vigilhq/vigil/bench/internal/proc"
)

// target is one system under test, run as a child process on loopback.
type target struct {
	name     string
	otlp     string // OTLP gRPC host:port
	query    string // Jaeger query API root
	spec     func(data, conf string) (proc.Spec, error)
	storeDir func(data string) string // what "bytes on disk" counts
}

func newTargets(c config) map[string]*target {
	vigil := fmt.Sprintf("http://127.0.0.1:%d", c.basePort)
	jq := fmt.Sprintf("http://127.0.0.1:%d", c.basePort+10)
	return map[string]*target{
		"vigil": {
			name: "vigil", otlp: fmt.Sprintf("127.0.0.1:%d", c.basePort+1), query: vigil,
			spec: func(data, conf string) (proc.Spec, error) {
				cfg := filepath.Join(conf, "vigil.yml")
				if err := os.WriteFile(cfg, []byte("traces:\n  retention: 7d\n"), 0o644); err != nil {
					return proc.Spec{}, err
				}
				return proc.Spec{Name: "vigil", ReadyURL: vigil + "/readyz",
					Ports: []int{c.basePort, c.basePort + 1, c.basePort + 2},
					Args: []string{c.vigilBin, "--config", cfg, "--data-dir", data, "--log-level", "warn",
						"--http-listen", fmt.Sprintf("127.0.0.1:%d", c.basePort),
						"--otlp-grpc-listen", fmt.Sprintf("127.0.0.1:%d", c.basePort+1),
						"--otlp-http-listen", fmt.Sprintf("127.0.0.1:%d", c.basePort+2)}}, nil
			},
			// The span store only: the span metrics Vigil derives go to metrics/ (logged).
			storeDir: func(data string) string { return filepath.Join(data, "traces") },
		},
		"jaeger": {
			name: "jaeger", otlp: fmt.Sprintf("127.0.0.1:%d", c.basePort+11), query: jq,
			spec: func(data, conf string) (proc.Spec, error) {
				cfg := filepath.Join(conf, "jaeger.yaml")
				if err := os.WriteFile(cfg, []byte(jaegerConfig(c.basePort, data)), 0o644); err != nil {
					return proc.Spec{}, err
				}
				return proc.Spec{Name: "jaeger", ReadyURL: fmt.Sprintf("http://127.0.0.1:%d/status", c.basePort+12),
					Ports: []int{c.basePort + 10, c.basePort + 11, c.basePort + 12, c.basePort + 13, c.basePort + 14, c.basePort + 15},
					Args:  []string{c.jaegerBin, "--config", cfg}}, nil
			},
			storeDir: func(data string) string { return data },
		},
	}
}

// jaegerConfig is Jaeger v1.76's cmd/jaeger/config-badger.yaml with every listener on
// loopback at the benchmark's ports, Badger in the round's data directory, no archive store
// (nothing writes to it), no UI config file, its own logs at warn, and enable_tracing off:
// the query extension otherwise traces itself to an OTLP exporter on localhost:4317 (where a
// real Vigil may listen), which costs CPU and pollutes that collector.
func jaegerConfig(base int, data string) string {
	return fmt.Sprintf(`service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    resource:
      service.name: jaeger
    metrics:
      level: detailed
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %[5]d
    logs:
      level: warn

extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: 127.0.0.1:%[4]d

  jaeger_query:
    storage:
      traces: some_store
    enable_tracing: false
    http:
      endpoint: 127.0.0.1:%[2]d
    grpc:
      endpoint: 127.0.0.1:%[6]d

  jaeger_storage:
    backends:
      some_store:
        badger:
          directories:
            keys: %[1]q
            values: %[1]q
          ephemeral: false
          ttl:
            spans: 168h

receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:%[3]d
      http:
        endpoint: 127.0.0.1:%[7]d

processors:
  batch:

exporters:
  jaeger_storage_exporter:
    trace_storage: some_store
`, data, base+10, base+11, base+12, base+13, base+14, base+15)
}

// traceSpans reads one trace by id from the Jaeger API and returns its span count.
func (t *target) traceSpans(ctx context.Context, id string) (int, error) {
	body, status, err := get(ctx, t.query+"/api/traces/"+id)
	if err != nil {
		return 0, err
	}
	if status == http.StatusNotFound {
		return 0, nil
	}
	if status != http.StatusOK {
		return 0, fmt.Errorf("GET /api/traces/%s: HTTP %d: %.300s", id, status, body)
	}
	var r struct {
		Data []struct {
			Spans []json.RawMessage `json:"spans"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return 0, fmt.Errorf("GET /api/traces/%s: %w", id, err)
	}
	n := 0
	for _, tr := range r.Data {
		n += len(tr.Spans)
	}
	return n, nil
}

// search runs the Jaeger search and returns the number of traces found.
func (t *target) search(ctx context.Context, s searchQuery) (int, error) {
	v := url.Values{}
	v.Set("service", s.service)
	v.Set("tags", s.tags)
	v.Set("minDuration", s.minDuration)
	v.Set("start", strconv.FormatInt(s.start.UnixMicro(), 10))
	v.Set("end", strconv.FormatInt(s.end.UnixMicro(), 10))
	v.Set("limit", strconv.Itoa(s.limit))
	body, status, err := get(ctx, t.query+"/api/traces?"+v.Encode())
	if err != nil {
		return 0, err
	}
	if status != http.StatusOK {
		return 0, fmt.Errorf("search: HTTP %d: %.300s", status, body)
	}
	var r struct {
		Data []json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return 0, fmt.Errorf("search: %w", err)
	}
	return len(r.Data), nil
}

type searchQuery struct {
	service, tags, minDuration string
	start, end                 time.Time
	limit                      int
}

var client = &http.Client{Timeout: 5 * time.Minute}

func get(ctx context.Context, u string) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return body, resp.StatusCode, err
}
