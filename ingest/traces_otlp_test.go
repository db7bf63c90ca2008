package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	grpccodes "google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vigilhq/vigil/traces"
)

var updateTraces = flag.Bool("update-traces", false, "rewrite the golden files in testdata/traces/")

// traceBase is the fixed start of the SDK-made trace (deterministic golden files); it is
// recent so that the future-skew check and the search window accept it.
var traceBase = time.Now().Truncate(time.Hour).Add(-2 * time.Hour)

func openTraceDB(t testing.TB) *traces.DB {
	t.Helper()
	db, err := traces.Open(t.TempDir(), traces.DefaultOptions(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

// seqIDs hands out predictable trace and span ids.
type seqIDs struct {
	mu   sync.Mutex
	next byte
}

func (g *seqIDs) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	return trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}, g.NewSpanID(ctx, trace.TraceID{})
}

func (g *seqIDs) NewSpanID(context.Context, trace.TraceID) trace.SpanID {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.next++
	return trace.SpanID{0, 0, 0, 0, 0, 0, 0xa0, g.next}
}

// startTraceExporter serves recv over transport on 127.0.0.1 and returns an SDK exporter.
func startTraceExporter(t *testing.T, recv *OTLPTraces, transport string) sdktrace.SpanExporter {
	t.Helper()
	ctx := context.Background()
	if transport == "grpc" {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		gs := grpc.NewServer()
		recv.RegisterGRPC(gs)
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = gs.Serve(lis)
		}()
		t.Cleanup(func() {
			gs.Stop()
			<-done
		})
		exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(lis.Addr().String()), otlptracegrpc.WithInsecure())
		if err != nil {
			t.Fatal(err)
		}
		return exp
	}
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close)
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(srv.URL+"/v1/traces"))
	if err != nil {
		t.Fatal(err)
	}
	return exp
}

// emitCheckout makes one trace across three services with the SDK: each service has its own
// TracerProvider (resource), and every span is exported as it ends, so the trace arrives
// in six requests.
func emitCheckout(t *testing.T, exp sdktrace.SpanExporter) {
	t.Helper()
	ids := &seqIDs{}
	provider := func(service string) *sdktrace.TracerProvider {
		return sdktrace.NewTracerProvider(
			sdktrace.WithSyncer(exp),
			sdktrace.WithIDGenerator(ids),
			sdktrace.WithResource(resource.NewSchemaless(
				attribute.String("service.name", service),
				attribute.String("host.name", service+"-1"))),
		)
	}
	frontend, payment, cart := provider("frontend"), provider("payment"), provider("cart")
	at := func(ms int) trace.SpanStartEventOption {
		return trace.WithTimestamp(traceBase.Add(time.Duration(ms) * time.Millisecond))
	}
	end := func(s trace.Span, ms int) {
		s.End(trace.WithTimestamp(traceBase.Add(time.Duration(ms) * time.Millisecond)))
	}

	ctx := context.Background()
	ctx, root := frontend.Tracer("shop").Start(ctx, "GET /checkout", at(0), trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.method", "GET"), attribute.Int("http.status_code", 200)))
	root.AddEvent("cart loaded", trace.WithTimestamp(traceBase.Add(5*time.Millisecond)), trace.WithAttributes(attribute.Int("items", 3)))
	payCtx, payClient := frontend.Tracer("shop").Start(ctx, "POST /pay", at(10), trace.WithSpanKind(trace.SpanKindClient))
	payCtx, payServer := payment.Tracer("pay").Start(payCtx, "POST /pay", at(12), trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.Float64("amount", 12.5), attribute.Bool("retry", false)))
	_, sel := payment.Tracer("pay").Start(payCtx, "SELECT", at(20), trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system", "postgres")))
	end(sel, 30)
	payServer.SetStatus(codes.Error, "card declined")
	end(payServer, 58)
	payClient.SetStatus(codes.Error, "")
	end(payClient, 60)
	cartCtx, cartClient := frontend.Tracer("shop").Start(ctx, "GET /cart", at(65), trace.WithSpanKind(trace.SpanKindClient))
	_, cartServer := cart.Tracer("cart").Start(cartCtx, "GET /cart", at(66), trace.WithSpanKind(trace.SpanKindServer))
	end(cartServer, 89)
	end(cartClient, 90)
	end(root, 100)
	for _, tp := range []*sdktrace.TracerProvider{frontend, payment, cart} {
		if err := tp.ForceFlush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := exp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

// checkTraceGolden compares JSON with testdata/traces/name after making the run's times
// relative to traceBase (µs offsets), so the file does not change with the clock.
func checkTraceGolden(t *testing.T, name string, body []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, body)
	}
	relativeTimes(v, float64(traceBase.UnixMicro()))
	got, _ := json.MarshalIndent(v, "", "  ")
	path := filepath.Join("testdata", "traces", name)
	if *updateTraces {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update-traces to create it)", err)
	}
	if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want)) {
		t.Errorf("%s differs from the golden file (run with -update-traces to accept):\n%s", name, got)
	}
}

func relativeTimes(v any, baseMicros float64) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if f, ok := e.(float64); ok && (k == "startTime" || k == "timestamp") {
				x[k] = f - baseMicros
				continue
			}
			relativeTimes(e, baseMicros)
		}
	case []any:
		for _, e := range x {
			relativeTimes(e, baseMicros)
		}
	}
}

func jaegerGet(t *testing.T, h http.Handler, path string) []byte {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
	}
	return rec.Body.Bytes()
}

func TestTracesOTLPWithSDKExporters(t *testing.T) {
	for _, tc := range []struct{ transport, protocol string }{{"grpc", protoOTLPGRPC}, {"http", protoOTLPHTTP}} {
		t.Run(tc.transport, func(t *testing.T) {
			db := openTraceDB(t)
			set := metrics.NewSet()
			recv, err := NewOTLPTraces(db, DefaultTracesIngestOptions(), set, nil)
			if err != nil {
				t.Fatal(err)
			}
			emitCheckout(t, startTraceExporter(t, recv, tc.transport))

			api := db.JaegerHandler()
			const id = "4bf92f3577b34da6a3ce929d0e0e4736"
			// Same golden file for both transports: they must store the same thing.
			checkTraceGolden(t, "sdk_checkout_trace.json", jaegerGet(t, api, "/api/traces/"+id))

			window := fmt.Sprintf("&start=%d&end=%d", traceBase.Add(-time.Hour).UnixMicro(), traceBase.Add(time.Hour).UnixMicro())
			for _, q := range []struct {
				query string
				want  int
			}{
				{"service=payment", 1},
				{"service=payment&operation=SELECT", 1},
				{"service=payment&tags=" + url.QueryEscape(`{"db.system":"postgres"}`), 1},
				{"service=payment&tags=" + url.QueryEscape(`{"db.system":"mysql"}`), 0},
				{"service=payment&tag=error:true", 1},
				{"service=cart&minDuration=20ms", 1},
				{"service=cart&minDuration=30ms", 0},
				{"service=cart&maxDuration=10ms", 0},
			} {
				var resp struct {
					Data []struct {
						TraceID string `json:"traceID"`
						Spans   []any  `json:"spans"`
					} `json:"data"`
				}
				if err := json.Unmarshal(jaegerGet(t, api, "/api/traces?"+q.query+window), &resp); err != nil {
					t.Fatal(err)
				}
				if len(resp.Data) != q.want || (q.want == 1 && (resp.Data[0].TraceID != id || len(resp.Data[0].Spans) != 6)) {
					t.Errorf("search %s: got %+v, want %d trace(s) of 6 spans", q.query, resp.Data, q.want)
				}
			}
			if got := counterValue(set, fmt.Sprintf(`vigil_ingest_items_total{signal="traces",protocol=%q}`, tc.protocol)); got != 6 {
				t.Errorf("items counted: %d, want 6", got)
			}
		})
	}
}

// badSpans builds one valid span and one of each kind of invalid span.
func badSpans(now time.Time) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "svc")
	ss := rs.ScopeSpans().AppendEmpty().Spans()
	add := func(name string, tid pcommon.TraceID, sid pcommon.SpanID, start, end time.Time) {
		s := ss.AppendEmpty()
		s.SetName(name)
		s.SetTraceID(tid)
		s.SetSpanID(sid)
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(end))
	}
	tid := pcommon.TraceID{1, 2, 3}
	add("good", tid, pcommon.SpanID{1}, now.Add(-time.Second), now)
	add("zero trace id", pcommon.TraceID{}, pcommon.SpanID{2}, now.Add(-time.Second), now)
	add("zero span id", tid, pcommon.SpanID{}, now.Add(-time.Second), now)
	add("end before start", tid, pcommon.SpanID{3}, now, now.Add(-time.Second))
	add("future", tid, pcommon.SpanID{4}, now.Add(2*time.Hour), now.Add(2*time.Hour+time.Second))
	add("no start", tid, pcommon.SpanID{5}, time.Unix(0, 0), now)
	return td
}

func TestTracesOTLPBadSpans(t *testing.T) {
	ctx := context.Background()
	db := openTraceDB(t)
	set := metrics.NewSet()
	recv, err := NewOTLPTraces(db, DefaultTracesIngestOptions(), set, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()

	t.Run("grpc partial success", func(t *testing.T) {
		resp, err := recv.Export(ctx, ptraceotlp.NewExportRequestFromTraces(badSpans(now)))
		if err != nil {
			t.Fatal(err)
		}
		ps := resp.PartialSuccess()
		if ps.RejectedSpans() != 5 || ps.ErrorMessage() == "" {
			t.Errorf("partial success: rejected %d, message %q; want 5 and a message", ps.RejectedSpans(), ps.ErrorMessage())
		}
		spans, err := db.TraceSpans(ctx, traces.TraceID{1, 2, 3})
		if err != nil || len(spans) != 1 || spans[0].Name != "good" {
			t.Errorf("stored: %+v, %v; want the good span only", spans, err)
		}
		if n := counterValue(set, `vigil_ingest_rejected_total{signal="traces",protocol="otlp_grpc",reason="bad_trace_id"}`); n != 1 {
			t.Errorf("rejected counter = %d, want 1", n)
		}
	})
	t.Run("grpc all rejected", func(t *testing.T) {
		td := badSpans(now)
		td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().RemoveIf(func(s ptrace.Span) bool { return s.Name() == "good" })
		_, err := recv.Export(ctx, ptraceotlp.NewExportRequestFromTraces(td))
		if status.Code(err) != grpccodes.InvalidArgument {
			t.Errorf("got %v, want InvalidArgument", err)
		}
	})
	t.Run("http json partial success", func(t *testing.T) {
		body, err := ptraceotlp.NewExportRequestFromTraces(badSpans(now)).MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/v1/traces", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		recv.ServeHTTP(rec, req)
		resp := ptraceotlp.NewExportResponse()
		if err := resp.UnmarshalJSON(rec.Body.Bytes()); err != nil || rec.Code != http.StatusOK {
			t.Fatalf("answer %d %s: %v", rec.Code, rec.Body, err)
		}
		if resp.PartialSuccess().RejectedSpans() != 5 {
			t.Errorf("rejected %d, want 5", resp.PartialSuccess().RejectedSpans())
		}
	})
	t.Run("http wrong id length", func(t *testing.T) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/v1/traces", bytes.NewReader([]byte(
			`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102","spanId":"0102030405060708","name":"x"}]}]}]}`)))
		req.Header.Set("Content-Type", "application/json")
		recv.ServeHTTP(rec, req)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("got %d %s, want 400", rec.Code, rec.Body)
		}
	})
	t.Run("http unsupported media type", func(t *testing.T) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/v1/traces", bytes.NewReader(nil))
		req.Header.Set("Content-Type", "text/plain")
		recv.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnsupportedMediaType {
			t.Errorf("got %d, want 415", rec.Code)
		}
	})
}

type failingSink struct{}

func (failingSink) WriteSpans(context.Context, []traces.Span) error {
	return errors.New("disk on fire")
}

func TestTracesOTLPSinkFailure(t *testing.T) {
	set := metrics.NewSet()
	recv, err := NewOTLPTraces(failingSink{}, DefaultTracesIngestOptions(), set, nil)
	if err != nil {
		t.Fatal(err)
	}
	req := ptraceotlp.NewExportRequestFromTraces(badSpans(time.Now()))
	if _, err := recv.Export(context.Background(), req); status.Code(err) != grpccodes.Unavailable {
		t.Errorf("grpc: got %v, want Unavailable", err)
	}
	body, _ := req.MarshalProto()
	rec := httptest.NewRecorder()
	hreq := httptest.NewRequest(http.MethodPost, "/v1/traces", bytes.NewReader(body))
	hreq.Header.Set("Content-Type", "application/x-protobuf")
	recv.ServeHTTP(rec, hreq)
	if rec.Code != http.StatusServiceUnavailable {
		b, _ := io.ReadAll(rec.Body)
		t.Errorf("http: got %d %s, want 503", rec.Code, b)
	}
	if n := counterValue(set, `vigil_ingest_rejected_total{signal="traces",protocol="otlp_http",reason="storage"}`); n != 1 {
		t.Errorf("storage rejections = %d, want 1", n)
	}
}
