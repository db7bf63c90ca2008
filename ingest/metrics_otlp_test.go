package ingest

import (
	"context"
	"net"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	otelmetric "go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
	"google.golang.org/grpc"
)

// startOTLPExporter serves m over the given transport on 127.0.0.1 and
// returns an SDK exporter pointed at it.
func startOTLPExporter(t *testing.T, m *OTLPMetrics, transport string, temporality sdkmetric.TemporalitySelector) sdkmetric.Exporter {
	t.Helper()
	ctx := context.Background()
	switch transport {
	case "grpc":
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		gs := grpc.NewServer()
		pmetricotlp.RegisterGRPCServer(gs, m)
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = gs.Serve(lis)
		}()
		t.Cleanup(func() {
			gs.Stop()
			<-done
		})
		exp, err := otlpmetricgrpc.New(ctx, otlpmetricgrpc.WithEndpoint(lis.Addr().String()),
			otlpmetricgrpc.WithInsecure(), otlpmetricgrpc.WithTemporalitySelector(temporality))
		if err != nil {
			t.Fatalf("grpc exporter: %v", err)
		}
		return exp
	default:
		srv := httptest.NewServer(m)
		t.Cleanup(srv.Close)
		exp, err := otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpointURL(srv.URL+"/v1/metrics"),
			otlpmetrichttp.WithTemporalitySelector(temporality))
		if err != nil {
			t.Fatalf("http exporter: %v", err)
		}
		return exp
	}
}

func TestOTLPMetricsWithSDKExporters(t *testing.T) {
	for _, tc := range []struct {
		transport, protocol string
	}{
		{"grpc", protoOTLPGRPC},
		{"http", protoOTLPHTTP},
	} {
		t.Run(tc.transport, func(t *testing.T) {
			ctx := context.Background()
			db := openMetricsTestDB(t)
			set := metrics.NewSet()
			m, err := NewOTLPMetrics(db, DefaultMetricsIngestOptions(), set, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			exp := startOTLPExporter(t, m, tc.transport, sdkmetric.DefaultTemporalitySelector)

			res := resource.NewSchemaless(
				attribute.String("service.name", "checkout"),
				attribute.String("service.instance.id", "pod-1"),
				attribute.String("k8s.namespace.name", "shop"),
			)
			mp := sdkmetric.NewMeterProvider(
				sdkmetric.WithResource(res),
				sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(time.Hour))),
				sdkmetric.WithView(sdkmetric.NewView(
					sdkmetric.Instrument{Name: "payload_size"},
					sdkmetric.Stream{Aggregation: sdkmetric.AggregationBase2ExponentialHistogram{MaxSize: 160, MaxScale: 20}},
				)),
			)
			meter := mp.Meter("checkout-meter")
			orders, _ := meter.Int64Counter("orders_processed")
			depth, _ := meter.Float64Gauge("queue_depth")
			dur, _ := meter.Float64Histogram("request_duration", otelmetric.WithUnit("s"),
				otelmetric.WithExplicitBucketBoundaries(0.1, 1, 10))
			size, _ := meter.Int64Histogram("payload_size", otelmetric.WithUnit("By"))

			orders.Add(ctx, 1, otelmetric.WithAttributes(attribute.String("region", "eu")))
			orders.Add(ctx, 2, otelmetric.WithAttributes(attribute.String("region", "eu")))
			depth.Record(ctx, 7)
			dur.Record(ctx, 0.5)
			dur.Record(ctx, 1.5)
			size.Record(ctx, 100)
			size.Record(ctx, 2000)
			if err := mp.ForceFlush(ctx); err != nil {
				t.Fatalf("flush: %v", err)
			}
			if err := mp.Shutdown(ctx); err != nil {
				t.Fatalf("shutdown: %v", err)
			}

			got := readSeries(t, db)
			last := func(key string) storedSample {
				t.Helper()
				ss := got[key]
				if len(ss) == 0 {
					t.Fatalf("series %s missing; have %v", key, keysOf(got))
				}
				return ss[len(ss)-1]
			}
			const id = `instance="pod-1", job="checkout"`
			if s := last(`{__name__="orders_processed_total", ` + id + `, region="eu"}`); s.V != 3 {
				t.Errorf("orders_processed_total = %v, want 3", s.V)
			}
			if s := last(`{__name__="queue_depth", ` + id + `}`); s.V != 7 {
				t.Errorf("queue_depth = %v, want 7", s.V)
			}
			if s := last(`{__name__="request_duration_seconds_count", ` + id + `}`); s.V != 2 {
				t.Errorf("request_duration_seconds_count = %v, want 2", s.V)
			}
			if s := last(`{__name__="request_duration_seconds_sum", ` + id + `}`); s.V != 2 {
				t.Errorf("request_duration_seconds_sum = %v, want 2", s.V)
			}
			if s := last(`{__name__="request_duration_seconds_bucket", ` + id + `, le="1"}`); s.V != 1 {
				t.Errorf("request_duration_seconds_bucket{le=1} = %v, want 1", s.V)
			}
			if s := last(`{__name__="payload_size_bytes", ` + id + `}`); s.H == nil || s.H.Count != 2 || s.H.Sum != 2100 {
				t.Errorf("payload_size_bytes = %+v, want a native histogram of count 2, sum 2100", s)
			}
			if s := last(`{__name__="target_info", ` + id + `, k8s_namespace_name="shop"}`); s.V != 1 {
				t.Errorf("target_info = %v, want 1", s.V)
			}
			if n := counterValue(set, itemsName(tc.protocol)); n == 0 {
				t.Errorf("items_total{%s} did not move", tc.protocol)
			}
			code := "200"
			if tc.transport == "grpc" {
				code = "OK"
			}
			if n := counterValue(set, requestsName(tc.protocol, code)); n == 0 {
				t.Errorf("requests_total{%s,%s} did not move", tc.protocol, code)
			}
		})
	}
}

// TestOTLPMetricsDelta checks delta sums become cumulative, as with
// Prometheus's ConvertDelta.
func TestOTLPMetricsDelta(t *testing.T) {
	ctx := context.Background()
	db := openMetricsTestDB(t)
	m, err := NewOTLPMetrics(db, DefaultMetricsIngestOptions(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	exp := startOTLPExporter(t, m, "http", func(sdkmetric.InstrumentKind) metricdata.Temporality { return metricdata.DeltaTemporality })
	mp := sdkmetric.NewMeterProvider(
		sdkmetric.WithResource(resource.NewSchemaless(attribute.String("service.name", "batch"))),
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(time.Hour))),
	)
	c, _ := mp.Meter("m").Int64Counter("jobs")
	for _, n := range []int64{1, 2, 4} {
		c.Add(ctx, n)
		if err := mp.ForceFlush(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond) // distinct millisecond timestamps
	}
	if err := mp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	got := readSeries(t, db)[`{__name__="jobs_total", job="batch"}`]
	var vals []float64
	for _, s := range got {
		vals = append(vals, s.V)
	}
	if len(vals) != 3 || vals[0] != 1 || vals[1] != 3 || vals[2] != 7 {
		t.Errorf("jobs_total = %v, want cumulative [1 3 7]", vals)
	}
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
