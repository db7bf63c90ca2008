package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vigilhq/vigil/bench/internal/proc"
)

// target is one system under test, run as a child process on loopback.
type target struct {
	name      string
	base      string // query API root
	ingestURL string
	spec      func(data, conf string) (proc.Spec, error)
	storeDir  func(data string) string // what "bytes on disk" counts
	// flush makes every written line durable in its final form (out of the WAL or in-memory
	// parts), waiting at most max.
	flush func(ctx context.Context, data string, max time.Duration) error
	vl    bool
}

func newTargets(c config) map[string]*target {
	vigilBase := fmt.Sprintf("http://127.0.0.1:%d", c.basePort)
	vlBase := fmt.Sprintf("http://127.0.0.1:%d", c.basePort+10)
	return map[string]*target{
		"vigil": {
			name: "vigil", base: vigilBase, ingestURL: vigilBase + "/api/v1/logs",
			spec: func(data, conf string) (proc.Spec, error) {
				cfg := filepath.Join(conf, "vigil.yml")
				if err := os.WriteFile(cfg, []byte("logs:\n  retention: 7d\n"), 0o644); err != nil {
					return proc.Spec{}, err
				}
				return proc.Spec{Name: "vigil", ReadyURL: vigilBase + "/readyz",
					Ports: []int{c.basePort, c.basePort + 1, c.basePort + 2},
					Args: []string{c.vigilBin, "--config", cfg, "--data-dir", data, "--log-level", "warn",
						"--http-listen", fmt.Sprintf("127.0.0.1:%d", c.basePort),
						"--otlp-grpc-listen", fmt.Sprintf("127.0.0.1:%d", c.basePort+1),
						"--otlp-http-listen", fmt.Sprintf("127.0.0.1:%d", c.basePort+2)}}, nil
			},
			// The log store only: Vigil's data dir also holds its own metrics (metrics/).
			storeDir: func(data string) string { return filepath.Join(data, "logs") },
			// Vigil flushes its buffered blocks every logs.flush_interval (2s) and then
			// truncates the WAL: wait until the WAL is (nearly) empty.
			flush: func(ctx context.Context, data string, max time.Duration) error {
				wal := filepath.Join(data, "logs", "wal")
				deadline := time.Now().Add(max)
				for time.Now().Before(deadline) {
					if proc.DiskBytes(wal) <= 1<<20 {
						return nil
					}
					select {
					case <-ctx.Done():
						return ctx.Err()
					case <-time.After(500 * time.Millisecond):
					}
				}
				return fmt.Errorf("WAL still holds %s after %s", proc.MiB(proc.DiskBytes(wal)), max)
			},
		},
		"victorialogs": {
			name: "victorialogs", base: vlBase, vl: true,
			ingestURL: vlBase + "/insert/jsonline?_msg_field=msg&_time_field=ts&_stream_fields=service",
			spec: func(data, _ string) (proc.Spec, error) {
				return proc.Spec{Name: "victorialogs", ReadyURL: vlBase + "/health", Ports: []int{c.basePort + 10},
					Args: []string{c.vlBin, "-storageDataPath=" + data, "-retentionPeriod=7d",
						fmt.Sprintf("-httpListenAddr=127.0.0.1:%d", c.basePort+10), "-loggerLevel=WARN"}}, nil
			},
			storeDir: func(data string) string { return data },
			// VictoriaLogs makes rows searchable after its in-memory parts are flushed (about a
			// second); /internal/force_flush does it now.
			flush: func(ctx context.Context, _ string, max time.Duration) error {
				_, err := get(ctx, vlBase+"/internal/force_flush", max)
				return err
			},
		},
	}
}

// query is one search, in each system's language, over the whole window.
type query struct{ name, vigil, vl string }

// The data (see loadgen/lines.go): "timeout" is in about 3% of the lines, the phrase
// "connection refused" in about 2%, errors of the checkout service are about 0.7%.
var queries = []query{
	{"term `timeout`", `timeout`, `timeout`},
	{"phrase \"connection refused\"", `"connection refused"`, `"connection refused"`},
	{"field filter level=error, service=checkout", `level:error AND service:checkout`, `level:=error service:=checkout`},
}

func (t *target) queryText(q query) string {
	if t.vl {
		return q.vl
	}
	return q.vigil
}

// search runs q once, returning the number of lines returned and, from Vigil, the total
// (exact with exactTotal; else Vigil's default, exact up to its total_limit).
func (t *target) search(ctx context.Context, q query, start, end time.Time, limit int, exactTotal bool) (lines int, total int64, err error) {
	v := url.Values{}
	v.Set("start", start.UTC().Format(time.RFC3339))
	v.Set("end", end.UTC().Format(time.RFC3339))
	v.Set("limit", strconv.Itoa(limit))
	if t.vl {
		// VictoriaLogs returns the newest `limit` matches, one JSON object per line.
		v.Set("query", q.vl)
		body, err := get(ctx, t.base+"/select/logsql/query?"+v.Encode(), 5*time.Minute)
		if err != nil {
			return 0, 0, err
		}
		sc := bufio.NewScanner(strings.NewReader(body))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) != "" {
				lines++
			}
		}
		return lines, -1, nil
	}
	v.Set("q", q.vigil)
	v.Set("direction", "backward")
	if exactTotal {
		v.Set("total_limit", "0")
	}
	body, err := get(ctx, t.base+"/api/v1/logs/query?"+v.Encode(), 5*time.Minute)
	if err != nil {
		return 0, 0, err
	}
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Lines []json.RawMessage `json:"lines"`
			Total int64             `json:"total"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil || r.Status != "success" {
		return 0, 0, fmt.Errorf("answer %.300s: %v", body, err)
	}
	return len(r.Data.Lines), r.Data.Total, nil
}

// count is the number of lines matching q in the window (not timed): Vigil's total, and
// VictoriaLogs' `| stats count()`.
func (t *target) count(ctx context.Context, q query, start, end time.Time) (int64, error) {
	if !t.vl {
		_, total, err := t.search(ctx, q, start, end, 1, true)
		return total, err
	}
	v := url.Values{}
	v.Set("query", q.vl+" | stats count() hits")
	v.Set("start", start.UTC().Format(time.RFC3339))
	v.Set("end", end.UTC().Format(time.RFC3339))
	body, err := get(ctx, t.base+"/select/logsql/query?"+v.Encode(), 5*time.Minute)
	if err != nil {
		return 0, err
	}
	var r struct {
		Hits string `json:"hits"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(body)), &r); err != nil {
		return 0, fmt.Errorf("answer %.300s: %w", body, err)
	}
	return strconv.ParseInt(r.Hits, 10, 64)
}

// queryLatency runs q reps times after one warm-up, one at a time, and returns the latencies
// in seconds and the number of lines of the last answer.
func queryLatency(ctx context.Context, t *target, q query, start, end time.Time, limit, reps int) ([]float64, int, error) {
	var lat []float64
	n := 0
	for i := 0; i <= reps; i++ {
		if ctx.Err() != nil {
			return nil, 0, ctx.Err()
		}
		t0 := time.Now()
		lines, _, err := t.search(ctx, q, start, end, limit, false)
		if err != nil {
			return nil, 0, err
		}
		n = lines
		if i > 0 { // the first run warms the page cache and the parsed query
			lat = append(lat, time.Since(t0).Seconds())
		}
	}
	return lat, n, nil
}

func get(ctx context.Context, u string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode/100 != 2 {
		return "", fmt.Errorf("GET %s: HTTP %d: %.300s", u, resp.StatusCode, body)
	}
	return string(body), nil
}
