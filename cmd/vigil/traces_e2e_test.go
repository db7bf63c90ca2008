package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
)

// TestTracesEndToEnd: two services send nested spans with the OpenTelemetry SDK over gRPC;
// the Jaeger API returns the trace as one tree, and the span metrics reach PromQL.
func TestTracesEndToEnd(t *testing.T) {
	cfg := testConfig(t)
	cfg.Traces.SpanMetrics.FlushInterval = model.Duration(time.Second)
	a := newTestApp(t, cli{}, cfg)
	stop := startApp(t, a)
	base := waitAddr(t, a)
	eventually(t, "ready", func() bool { code, _ := get(t, base+"/readyz"); return code == 200 })

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	provider := func(service string) *sdktrace.TracerProvider {
		exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithInsecure(), otlptracegrpc.WithEndpoint(a.otlp.GRPCAddr().String()))
		if err != nil {
			t.Fatal(err)
		}
		return sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp),
			sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName(service))))
	}
	front, back := provider("frontend"), provider("checkout")
	rootCtx, root := front.Tracer("e2e").Start(ctx, "GET /cart", trace.WithSpanKind(trace.SpanKindServer))
	clientCtx, client := front.Tracer("e2e").Start(rootCtx, "POST /checkout", trace.WithSpanKind(trace.SpanKindClient))
	_, server := back.Tracer("e2e").Start(clientCtx, "checkout", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("cart.id", "c-42")))
	server.SetStatus(codes.Error, "card declined")
	time.Sleep(5 * time.Millisecond)
	server.End()
	client.End()
	root.End()
	for _, p := range []*sdktrace.TracerProvider{front, back} {
		if err := p.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
	traceID := root.SpanContext().TraceID().String()

	resp, err := http.Get(base + "/api/traces/" + traceID)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Data []struct {
			TraceID string
			Spans   []struct {
				SpanID        string
				OperationName string
				ProcessID     string
				References    []struct{ RefType, SpanID string }
			}
			Processes map[string]struct{ ServiceName string }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != 200 || len(got.Data) != 1 {
		t.Fatalf("GET /api/traces/%s: %d %+v %v", traceID, resp.StatusCode, got, err)
	}
	tr := got.Data[0]
	parentOf := map[string]string{}
	serviceOf := map[string]string{}
	for _, s := range tr.Spans {
		serviceOf[s.OperationName] = tr.Processes[s.ProcessID].ServiceName
		for _, r := range s.References {
			if r.RefType == "CHILD_OF" {
				for _, p := range tr.Spans {
					if p.SpanID == r.SpanID {
						parentOf[s.OperationName] = p.OperationName
					}
				}
			}
		}
	}
	wantParents := map[string]string{"POST /checkout": "GET /cart", "checkout": "POST /checkout"}
	if fmt.Sprint(parentOf) != fmt.Sprint(wantParents) || serviceOf["checkout"] != "checkout" || serviceOf["GET /cart"] != "frontend" {
		t.Fatalf("trace tree: parents %v, services %v", parentOf, serviceOf)
	}
	if _, body := get(t, base+"/api/services"); !strings.Contains(body, `"checkout"`) || !strings.Contains(body, `"frontend"`) {
		t.Errorf("/api/services = %s", body)
	}
	// The trace page's API is served beside /api/v1/traces/{id}: the tree one level deep
	// (the root, with the size of what hangs below it), and the server span in full.
	code, body := get(t, base+"/api/v1/traces/"+traceID+"/tree?depth=1")
	var tree struct {
		SpanCount int
		Omitted   int
		Spans     []struct {
			SpanID, Name    string
			DescendantCount int
		}
	}
	if err := json.Unmarshal([]byte(body), &tree); err != nil || code != 200 || tree.SpanCount != 3 || tree.Omitted != 2 ||
		len(tree.Spans) != 1 || tree.Spans[0].Name != "GET /cart" || tree.Spans[0].DescendantCount != 2 {
		t.Errorf("GET /api/v1/traces/%s/tree: %d %s (%v)", traceID, code, body, err)
	}
	code, body = get(t, base+"/api/v1/traces/"+traceID+"/spans/"+server.SpanContext().SpanID().String())
	if code != 200 || !strings.Contains(body, `"statusMessage":"card declined"`) || !strings.Contains(body, `"cart.id"`) {
		t.Errorf("GET span: %d %s", code, body)
	}

	// Span metrics: the error on checkout's server span is counted by status.
	eventually(t, "span metrics", func() bool {
		v := promQuery(t, base, `sum(traces_span_metrics_calls_total{service_name="checkout",status_code="STATUS_CODE_ERROR"})`)
		return v["{}"] == "1"
	})
	eventually(t, "service graph", func() bool {
		v := promQuery(t, base, `sum(traces_service_graph_request_total{client="frontend",server="checkout"})`)
		return v["{}"] == "1"
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
