package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
)

func post(t *testing.T, url, contentType string, body []byte, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// logQuery returns the raw lines and total hit count of a log search.
func logQuery(t *testing.T, base, q string, start, end time.Time) ([]string, int) {
	t.Helper()
	u := fmt.Sprintf("%s/api/v1/logs/query?q=%s&start=%d&end=%d&limit=1000", base, url.QueryEscape(q), start.Unix(), end.Unix())
	code, body := get(t, u)
	if code != 200 {
		t.Fatalf("log query %q: %d %s", q, code, body)
	}
	var r struct {
		Data struct {
			Lines []struct{ Raw string }
			Total int
		}
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("log query %q: %v\n%s", q, err, body)
	}
	var raws []string
	for _, l := range r.Data.Lines {
		raws = append(raws, l.Raw)
	}
	return raws, r.Data.Total
}

// TestLogsEndToEnd sends logs over every log protocol and finds them again, exactly as sent,
// through the query API; a log-query alerting rule fires on them.
func TestLogsEndToEnd(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(`
groups:
  - name: logs
    interval: 200ms
    rules:
      - alert: CheckoutErrors
        expr: count_over_time({__logs__="level:error AND service:checkout"}[5m]) > 2
        labels: {severity: low}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t)
	cfg.Alerting.RuleFiles = []string{filepath.Join(dir, "rules.yml")}
	a := newTestApp(t, cli{}, cfg)
	stop := startApp(t, a)
	base := waitAddr(t, a)
	eventually(t, "ready", func() bool { code, _ := get(t, base+"/readyz"); return code == 200 })
	now := time.Now().UTC()
	ts := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339Nano) }

	// JSON lines, gzipped, one of them broken: the rest is stored, the broken one reported.
	lines := []string{
		fmt.Sprintf(`{"ts":%q,"level":"ERROR","service":"checkout","msg":"payment failed: connection refused (payment-service:8080)","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","http":{"status":502}}`, ts(-3*time.Second)),
		`not json`,
		fmt.Sprintf(`{"time":%q,"level":"info","service":"checkout","message":"order 17 placed"}`, ts(-2*time.Second)),
		fmt.Sprintf(`{"@timestamp":%q,"severity":"error","service":"checkout","msg":"card declined"}`, ts(-time.Second)),
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(strings.Join(lines, "\n")))
	_ = zw.Close()
	code, body := post(t, base+"/api/v1/logs", "application/x-ndjson", gz.Bytes(), "Content-Encoding", "gzip")
	if code != 200 || !strings.Contains(body, `"accepted":3`) || !strings.Contains(body, `"rejected":1`) {
		t.Fatalf("JSON lines: %d %s", code, body)
	}

	// Loki push (JSON).
	code, body = post(t, base+"/loki/api/v1/push", "application/json", []byte(fmt.Sprintf(
		`{"streams":[{"stream":{"service":"checkout","level":"error"},"values":[["%d","inventory timeout after 3s"]]}]}`, now.UnixNano())))
	if code != 204 {
		t.Fatalf("Loki push: %d %s", code, body)
	}

	// Elasticsearch: the handshake, then a bulk request as Filebeat sends it.
	if code, body := get(t, base+"/es/"); code != 200 || !strings.Contains(body, `"number"`) {
		t.Fatalf("ES handshake: %d %s", code, body)
	}
	doc := fmt.Sprintf(`{"@timestamp":%q,"message":"GET /healthz 200 1ms","service":{"name":"edge"},"log":{"level":"INFO"}}`, ts(-4*time.Second))
	code, body = post(t, base+"/es/_bulk", "application/x-ndjson", []byte(`{"create":{"_index":"filebeat-8.17.0"}}`+"\n"+doc+"\n"))
	if code != 200 || !strings.Contains(body, `"errors":false`) {
		t.Fatalf("ES bulk: %d %s", code, body)
	}

	// The OpenTelemetry SDK's OTLP/HTTP log exporter.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	exp, err := otlploghttp.New(ctx, otlploghttp.WithInsecure(), otlploghttp.WithEndpoint(a.otlp.HTTPAddr().String()))
	if err != nil {
		t.Fatal(err)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)),
		sdklog.WithResource(resource.NewSchemaless(semconv.ServiceName("frontend"))))
	var rec otellog.Record
	rec.SetTimestamp(now)
	rec.SetSeverity(otellog.SeverityWarn)
	rec.SetSeverityText("WARN")
	rec.SetBody(attribute.StringValue("slow render of /cart"))
	lp.Logger("e2e").Emit(ctx, rec)
	if err := lp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	from, to := now.Add(-time.Minute), now.Add(time.Minute)
	raws, total := logQuery(t, base, `level:error AND service:checkout`, from, to)
	if total != 3 {
		t.Fatalf("level:error AND service:checkout: %d hits %q, want 3", total, raws)
	}
	raws, _ = logQuery(t, base, `"connection refused"`, from, to)
	if len(raws) != 1 || raws[0] != lines[0] {
		t.Fatalf("phrase query returned %q, want the line exactly as sent:\n%s", raws, lines[0])
	}
	for q, want := range map[string]int{
		`service:edge`:           1,
		`service:frontend`:       1,
		`"payment-service:8080"`: 1,
		`-service:checkout`:      2,
	} {
		if _, got := logQuery(t, base, q, from, to); got != want {
			t.Errorf("query %s: %d hits, want %d", q, got, want)
		}
	}
	if code, body := get(t, base+"/api/v1/logs/query?q="+url.QueryEscape("level:(")); code != 400 {
		t.Errorf("invalid query: %d %s, want 400", code, body)
	}

	// The log rule counts the three checkout errors and fires.
	eventually(t, "log rule firing", func() bool {
		_, body := get(t, base+"/api/v1/alerts")
		return strings.Contains(body, "CheckoutErrors") && strings.Contains(body, `"state":"firing"`)
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
