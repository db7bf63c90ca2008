package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gogo/protobuf/proto"
	"github.com/golang/snappy"
	config_util "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage/remote"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
)

// promQuery runs an instant PromQL query through the HTTP API and returns each series'
// value keyed by its labels.
func promQuery(t *testing.T, base, q string) map[string]string {
	t.Helper()
	out := map[string]string{}
	res, _ := promInstant(t, base, url.Values{"query": {q}})
	for ls, v := range res {
		out[ls] = fmt.Sprint(v)
	}
	return out
}

// promInstant posts an instant query (form: query, time...) to a Prometheus-compatible API
// and returns each series' value, as the API wrote it, by its labels' string, and the
// response's header.
func promInstant(t *testing.T, base string, form url.Values) (map[string]any, http.Header) {
	t.Helper()
	resp, err := http.PostForm(base+"/api/v1/query", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var r struct {
		Status string
		Data   struct {
			Result []struct {
				Metric map[string]string
				Value  [2]any
			}
		}
	}
	if err := json.Unmarshal(body, &r); err != nil || r.Status != "success" {
		t.Fatalf("query %v: %s (%v)", form, body, err)
	}
	out := map[string]any{}
	for _, s := range r.Data.Result {
		out[toLabelSet(s.Metric).String()] = s.Value[1]
	}
	return out, resp.Header
}

func toLabelSet(m map[string]string) model.LabelSet {
	ls := model.LabelSet{}
	for k, v := range m {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return ls
}

// eventually polls f for at most 10 s.
func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if f() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func remoteWriteV1(t *testing.T, base string, series ...prompb.TimeSeries) error {
	t.Helper()
	u, _ := url.Parse(base + "/api/v1/write")
	c, err := remote.NewWriteClient("e2e", &remote.ClientConfig{URL: &config_util.URL{URL: u}, Timeout: model.Duration(5 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := proto.Marshal(&prompb.WriteRequest{Timeseries: series})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Store(context.Background(), snappy.Encode(nil, raw), 0)
	return err
}

func TestMetricsEndToEnd(t *testing.T) {
	a := newTestApp(t, cli{}, testConfig(t))
	stop := startApp(t, a)
	base := waitAddr(t, a)
	eventually(t, "ready", func() bool { code, _ := get(t, base+"/readyz"); return code == 200 })
	now := time.Now()

	// Prometheus's remote-write client.
	err := remoteWriteV1(t, base, prompb.TimeSeries{
		Labels:  []prompb.Label{{Name: "__name__", Value: "e2e_requests_total"}, {Name: "job", Value: "rw"}},
		Samples: []prompb.Sample{{Value: 41, Timestamp: now.Add(-time.Second).UnixMilli()}, {Value: 42, Timestamp: now.UnixMilli()}},
	})
	if err != nil {
		t.Fatalf("remote write: %v", err)
	}

	// The OpenTelemetry SDK, over gRPC and over HTTP.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	grpcExp, err := otlpmetricgrpc.New(ctx, otlpmetricgrpc.WithInsecure(), otlpmetricgrpc.WithEndpoint(a.otlp.GRPCAddr().String()))
	if err != nil {
		t.Fatal(err)
	}
	httpExp, err := otlpmetrichttp.New(ctx, otlpmetrichttp.WithInsecure(), otlpmetrichttp.WithEndpoint(a.otlp.HTTPAddr().String()))
	if err != nil {
		t.Fatal(err)
	}
	for i, exp := range []sdkmetric.Exporter{grpcExp, httpExp} {
		res := resource.NewSchemaless(semconv.ServiceName(fmt.Sprintf("checkout-%d", i)), semconv.ServiceInstanceID("pod-1"),
			attribute.String("deployment.environment", "prod"))
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithReader(sdkmetric.NewManualReader()),
			sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(time.Hour))))
		counter, _ := mp.Meter("e2e").Int64Counter("orders")
		counter.Add(ctx, 7, metric.WithAttributes(attribute.String("region", "eu")))
		if err := mp.ForceFlush(ctx); err != nil {
			t.Fatalf("flush exporter %d: %v", i, err)
		}
		if err := mp.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}

	// A batch job's text exposition.
	resp, err := http.Post(base+"/api/v1/import/prometheus?extra_label=source=batch", "text/plain",
		strings.NewReader("# TYPE e2e_batch_last_success gauge\ne2e_batch_last_success 1700000000\n"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("import status %d", resp.StatusCode)
	}

	want := map[string]map[string]string{
		"e2e_requests_total": {`{__name__="e2e_requests_total", job="rw"}`: "42"},
		`orders_total`: {
			`{__name__="orders_total", instance="pod-1", job="checkout-0", region="eu"}`: "7",
			`{__name__="orders_total", instance="pod-1", job="checkout-1", region="eu"}`: "7",
		},
		"e2e_batch_last_success": {`{__name__="e2e_batch_last_success", source="batch"}`: "1700000000"},
		`target_info{job=~"checkout-.*"}`: {
			// Resource attributes other than the job/instance ones land on target_info.
			`{__name__="target_info", deployment_environment="prod", instance="pod-1", job="checkout-0"}`: "1",
			`{__name__="target_info", deployment_environment="prod", instance="pod-1", job="checkout-1"}`: "1",
		},
	}
	for q, w := range want {
		got := promQuery(t, base, q)
		if fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("query %s = %v, want %v", q, got, w)
		}
	}

	// Prometheus's remote-read client reads the remote-written samples back.
	u, _ := url.Parse(base + "/api/v1/read")
	rc, err := remote.NewReadClient("e2e", &remote.ClientConfig{URL: &config_util.URL{URL: u}, Timeout: model.Duration(5 * time.Second), ChunkedReadLimit: 50 << 20})
	if err != nil {
		t.Fatal(err)
	}
	ss, err := rc.Read(ctx, &prompb.Query{
		StartTimestampMs: now.Add(-time.Minute).UnixMilli(),
		EndTimestampMs:   now.Add(time.Minute).UnixMilli(),
		Matchers:         []*prompb.LabelMatcher{{Type: prompb.LabelMatcher_EQ, Name: "__name__", Value: "e2e_requests_total"}},
	}, true)
	if err != nil {
		t.Fatalf("remote read: %v", err)
	}
	var read []float64
	for ss.Next() {
		it := ss.At().Iterator(nil)
		for it.Next() != chunkenc.ValNone {
			_, v := it.At()
			read = append(read, v)
		}
	}
	if err := ss.Err(); err != nil {
		t.Fatalf("remote read series: %v", err)
	}
	if fmt.Sprint(read) != "[41 42]" {
		t.Errorf("remote read returned %v, want [41 42]", read)
	}

	// Vigil scrapes itself into its own TSDB.
	eventually(t, "self-scrape", func() bool {
		return promQuery(t, base, `up{job="vigil"}`)[fmt.Sprintf(`{__name__="up", instance=%q, job="vigil"}`, a.front.Addr().String())] == "1"
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
