package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/units"
	"github.com/prometheus/common/model"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	grpccodes "google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// receiverVigil is a second Vigil that forwarded data lands in, restartable on the same
// ports and data directory to play an outage.
type receiverVigil struct {
	cfg  Config
	a    *app
	stop func() error
	base string
}

func startReceiver(t *testing.T) *receiverVigil {
	t.Helper()
	r := &receiverVigil{cfg: testConfig(t)}
	r.start(t)
	// Later starts listen where the first one did, as a restarted server would.
	r.cfg.HTTPListen = r.a.front.Addr().String()
	r.cfg.OTLPGRPCListen = r.a.otlp.GRPCAddr().String()
	r.cfg.OTLPHTTPListen = r.a.otlp.HTTPAddr().String()
	return r
}

func (r *receiverVigil) start(t *testing.T) {
	t.Helper()
	r.a = newTestApp(t, cli{}, r.cfg)
	r.stop = startApp(t, r.a)
	r.base = waitAddr(t, r.a)
	eventually(t, "receiver ready", func() bool { code, _ := get(t, r.base+"/readyz"); return code == 200 })
}

// forwardApp starts a Vigil forwarding to eps, with data in dir.
func forwardApp(t *testing.T, dir string, eps ...ForwardOTLPConfig) (*app, string, func() error) {
	t.Helper()
	cfg := testConfig(t)
	if dir != "" {
		cfg.DataDir = dir
	}
	cfg.Forward.OTLP = eps
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a := newTestApp(t, cli{}, cfg)
	stop := startApp(t, a)
	base := waitAddr(t, a)
	eventually(t, "ready", func() bool { code, _ := get(t, base+"/readyz"); return code == 200 })
	return a, base, stop
}

// fastRetry makes a test endpoint retry within a second of an outage ending.
func fastRetry(e ForwardOTLPConfig) ForwardOTLPConfig {
	e.RetryInitialInterval = model.Duration(100 * time.Millisecond)
	e.RetryMaxInterval = model.Duration(time.Second)
	e.Timeout = model.Duration(5 * time.Second)
	return e
}

// selfMetric reads one sample of Vigil's /metrics; 0 if absent.
func selfMetric(t *testing.T, base, series string) float64 {
	t.Helper()
	_, body := get(t, base+"/metrics")
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f
		}
	}
	return 0
}

// waitFor polls f for at most within (forwarding after an outage waits for a retry).
func waitFor(t *testing.T, what string, within time.Duration, f func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if f() {
			return
		}
	}
	t.Fatalf("timed out after %s waiting for %s", within, what)
}

// logLines is n JSON lines of service svc numbered from first.
func logLines(svc string, first, n int, now time.Time) []byte {
	var b strings.Builder
	for i := first; i < first+n; i++ {
		fmt.Fprintf(&b, `{"ts":%q,"level":"error","service":%q,"msg":"payment failed %d","order":%d,"http":{"status":502},"trace_id":"%032x","k8s.namespace.name":"shop","request_id":"%016x"}`+"\n",
			now.Add(time.Duration(i)*time.Millisecond).Format(time.RFC3339Nano), svc, i, i, i+1, requestIDOf(i))
	}
	return []byte(b.String())
}

// requestIDOf is a line's request_id: distinct, hex, and as hard to compress as real ids.
func requestIDOf(i int) uint64 { return uint64(i+1) * 0x9e3779b97f4a7c15 }

func sendLines(t *testing.T, base string, body []byte) {
	t.Helper()
	if code, resp := post(t, base+"/api/v1/logs", "application/x-ndjson", body); code != 200 {
		t.Fatalf("POST /api/v1/logs: %d %s", code, resp)
	}
}

// sendTrace sends one trace of three spans of two services (kinds, attributes, an event, a
// link, an error status) over OTLP gRPC and returns its id.
func sendTrace(t *testing.T, grpcAddr string, n int) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	provider := func(service string) *sdktrace.TracerProvider {
		exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithInsecure(), otlptracegrpc.WithEndpoint(grpcAddr))
		if err != nil {
			t.Fatal(err)
		}
		return sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithResource(resource.NewSchemaless(
			semconv.ServiceName(service), attribute.String("host.name", "node-1"), attribute.String("deployment.environment", "test"))))
	}
	front, back := provider("frontend"), provider("checkout")
	rootCtx, root := front.Tracer("e2e").Start(ctx, "GET /cart", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.Int("n", n), attribute.Bool("cached", false), attribute.Float64("ratio", 0.25)))
	clientCtx, client := front.Tracer("e2e").Start(rootCtx, "POST /checkout", trace.WithSpanKind(trace.SpanKindClient))
	_, server := back.Tracer("e2e").Start(clientCtx, "checkout", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("cart.id", fmt.Sprintf("c-%d", n))),
		trace.WithLinks(trace.Link{SpanContext: root.SpanContext(), Attributes: []attribute.KeyValue{attribute.String("why", "retry")}}))
	server.AddEvent("card declined", trace.WithAttributes(attribute.String("card", "visa")))
	server.SetStatus(codes.Error, "card declined")
	server.End()
	client.End()
	root.End()
	for _, p := range []*sdktrace.TracerProvider{front, back} {
		if err := p.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return root.SpanContext().TraceID().String()
}

// otlpTrace is /api/v1/traces/<id>; "" until the trace is there.
func otlpTrace(t *testing.T, base, id string) string {
	t.Helper()
	code, body := get(t, base+"/api/v1/traces/"+id)
	if code != 200 {
		return ""
	}
	return body
}

// spanCount counts the spans of an OTLP JSON trace.
func spanCount(t *testing.T, body string) int {
	t.Helper()
	td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces([]byte(body))
	if err != nil {
		t.Fatalf("decode trace: %v", err)
	}
	return td.SpanCount()
}

// sendMetric posts one OTLP gauge point over HTTP on the main port.
func sendMetric(t *testing.T, base string, v float64) {
	t.Helper()
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "checkout")
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("queue_depth")
	dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
	dp.SetTimestamp(pcommon.NewTimestampFromTime(time.Now()))
	dp.SetDoubleValue(v)
	body, err := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	if code, resp := post(t, base+"/api/v1/otlp/v1/metrics", "application/x-protobuf", body); code != 200 {
		t.Fatalf("OTLP metrics: %d %s", code, resp)
	}
}

// TestForwardToAnotherVigil: spans (OTLP, Zipkin), lines (JSON lines, Loki) and OTLP metrics
// ingested by one Vigil reach a second one through forward.otlp (gRPC for traces and logs,
// OTLP/HTTP for metrics), all of them and unchanged, across a 10 s outage of the receiver.
func TestForwardToAnotherVigil(t *testing.T) {
	if testing.Short() {
		t.Skip("plays a 10 s outage")
	}
	recv := startReceiver(t)
	fwd, base, _ := forwardApp(t, "",
		fastRetry(ForwardOTLPConfig{Name: "vigil-b", Protocol: "grpc", Endpoint: recv.cfg.OTLPGRPCListen,
			TLS: ForwardTLSConfig{Insecure: true}, Signals: []string{"traces", "logs"}}),
		fastRetry(ForwardOTLPConfig{Name: "vigil-b-metrics", Protocol: "http/protobuf", Endpoint: "http://" + recv.cfg.OTLPHTTPListen,
			Signals: []string{"metrics"}, Compression: "none"}),
	)
	grpcAddr := fwd.otlp.GRPCAddr().String()
	now := time.Now().Add(-time.Minute)

	lines, traceIDs := 0, []string{}
	sendLines(t, base, logLines("checkout", 0, 200, now))
	lines += 200
	if code, resp := post(t, base+"/loki/api/v1/push", "application/json", []byte(fmt.Sprintf(
		`{"streams":[{"stream":{"service":"checkout","level":"error"},"values":[["%d","loki line one"],["%d","loki line two"]]}]}`,
		now.UnixNano(), now.UnixNano()+1))); code != 204 {
		t.Fatalf("Loki push: %d %s", code, resp)
	}
	lines += 2
	esDoc := fmt.Sprintf(`{"@timestamp":%q,"message":"es bulk line","service":"checkout","log":{"level":"warn"}}`, now.Format(time.RFC3339Nano))
	if code, resp := post(t, base+"/es/_bulk", "application/x-ndjson", []byte(`{"create":{"_index":"filebeat-8.17.0"}}`+"\n"+esDoc+"\n")); code != 200 || !strings.Contains(resp, `"errors":false`) {
		t.Fatalf("ES bulk: %d %s", code, resp)
	}
	lines++
	// OTLP logs with a resource, a scope, typed attributes and an event name.
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "checkout")
	rl.Resource().Attributes().PutStr("host.name", "node-7")
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("payments")
	lr := sl.LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(now))
	lr.SetSeverityNumber(plog.SeverityNumberError)
	lr.Body().SetStr("otlp line")
	lr.SetEventName("card.declined")
	lr.Attributes().PutInt("attempt", 3)
	lr.Attributes().PutBool("retry", true)
	lr.SetTraceID(pcommon.TraceID{1, 2, 3})
	lbody, _ := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	if code, resp := post(t, "http://"+fwd.otlp.HTTPAddr().String()+"/v1/logs", "application/x-protobuf", lbody); code != 200 {
		t.Fatalf("OTLP logs: %d %s", code, resp)
	}
	lines++
	traceIDs = append(traceIDs, sendTrace(t, grpcAddr, 0))
	zipkinID := "5af7183fb1d4cf5f0000000000000001"
	if code, resp := post(t, base+"/api/v2/spans", "application/json", []byte(fmt.Sprintf(
		`[{"traceId":%q,"id":"0000000000000001","name":"get /zip","kind":"SERVER","timestamp":%d,"duration":1500,"localEndpoint":{"serviceName":"zipkin-svc"},"tags":{"http.method":"GET"}}]`,
		zipkinID, now.UnixMicro()))); code != 202 {
		t.Fatalf("Zipkin: %d %s", code, resp)
	}
	traceIDs = append(traceIDs, zipkinID)
	sendMetric(t, base, 42)

	// The receiver goes away for 10 s while ingest goes on.
	if err := recv.stop(); err != nil {
		t.Fatal(err)
	}
	outageEnd := time.Now().Add(10 * time.Second)
	for i := 1; time.Now().Before(outageEnd); i++ {
		sendLines(t, base, logLines("checkout", 1000*i, 20, now))
		lines += 20
		traceIDs = append(traceIDs, sendTrace(t, grpcAddr, i))
		time.Sleep(200 * time.Millisecond)
	}
	recv.start(t)

	waitFor(t, "every line at the receiver", 60*time.Second, func() bool {
		_, total := logQuery(t, recv.base, "service:checkout", now.Add(-time.Hour), time.Now().Add(time.Hour))
		return total >= lines
	})
	if _, total := logQuery(t, recv.base, "service:checkout", now.Add(-time.Hour), time.Now().Add(time.Hour)); total != lines {
		t.Errorf("receiver has %d lines, sent %d", total, lines)
	}
	for _, id := range traceIDs {
		waitFor(t, "trace "+id+" at the receiver", 60*time.Second, func() bool { return otlpTrace(t, recv.base, id) != "" })
		got, want := otlpTrace(t, recv.base, id), otlpTrace(t, base, id)
		if spanCount(t, got) != spanCount(t, want) {
			t.Fatalf("trace %s: %d spans at the receiver, %d at the sender", id, spanCount(t, got), spanCount(t, want))
		}
		if got != want {
			t.Fatalf("trace %s differs at the receiver:\n%s\nsender:\n%s", id, got, want)
		}
	}

	// One line in detail: the receiver got every field, typed.
	raws, _ := logQuery(t, recv.base, "order:7", now.Add(-time.Hour), time.Now().Add(time.Hour))
	if len(raws) != 1 {
		t.Fatalf("order:7 at the receiver: %q", raws)
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(raws[0]), &line); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"message": "payment failed 7", "level": "error", "service": "checkout", "order": 7.0,
		"http.status": 502.0, "trace_id": fmt.Sprintf("%032x", 8), "k8s.namespace.name": "shop"}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("forwarded line: %s = %v (%T), want %v; line %s", k, line[k], line[k], v, raws[0])
		}
	}
	// Lines from the other protocols, in detail.
	for q, want := range map[string]map[string]any{
		`"es bulk line"`: {"level": "warn", "service": "checkout"},
		`"otlp line"`: {"level": "error", "service": "checkout", "host.name": "node-7", "otel.scope.name": "payments",
			"event.name": "card.declined", "attempt": 3.0, "retry": true, "trace_id": "01020300000000000000000000000000"},
		`"loki line two"`: {"level": "error", "service": "checkout"},
	} {
		raws, _ := logQuery(t, recv.base, q, now.Add(-time.Hour), time.Now().Add(time.Hour))
		if len(raws) != 1 {
			t.Fatalf("%s at the receiver: %q", q, raws)
		}
		var got map[string]any
		if err := json.Unmarshal([]byte(raws[0]), &got); err != nil {
			t.Fatal(err)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s at the receiver: %s = %v, want %v (%s)", q, k, got[k], v, raws[0])
			}
		}
	}
	waitFor(t, "the forwarded OTLP metric", 60*time.Second, func() bool {
		return len(promQuery(t, recv.base, `queue_depth{job="checkout"} == 42`)) == 1
	})

	sent := selfMetric(t, base, `vigil_forward_sent_total{endpoint="vigil-b",signal="logs"}`)
	queued := selfMetric(t, base, `vigil_forward_queued_total{endpoint="vigil-b",signal="logs"}`)
	if sent < float64(lines) || queued != float64(lines) {
		t.Errorf("vigil_forward_sent_total %v, queued %v, for %d lines", sent, queued, lines)
	}
	if r := selfMetric(t, base, `vigil_forward_retries_total{endpoint="vigil-b",signal="logs"}`) +
		selfMetric(t, base, `vigil_forward_retries_total{endpoint="vigil-b",signal="traces"}`); r == 0 {
		t.Error("no retries counted across the outage")
	}
	t.Logf("forwarded %d lines and %d traces across a 10 s outage", lines, len(traceIDs))
}

// deadAddr is a loopback address nothing listens on (until a test starts something there).
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestForwardFullQueue: an endpoint that is down with a tiny queue drops its oldest data and
// counts it (drop_oldest), or makes ingest answer 429 / ResourceExhausted with a retry delay
// (backpressure), storing nothing of the refused requests.
func TestForwardFullQueue(t *testing.T) {
	dead := deadAddr(t)
	t.Run("drop_oldest", func(t *testing.T) {
		_, base, _ := forwardApp(t, "", ForwardOTLPConfig{Name: "down", Protocol: "http/protobuf", Endpoint: "http://" + dead,
			Signals: []string{"logs"}, Queue: ForwardQueue{MaxSize: 64 * units.KiB}})
		now := time.Now()
		for i := 0; i < 200 && selfMetric(t, base, `vigil_forward_dropped_total{endpoint="down",signal="logs",reason="queue_full"}`) == 0; i++ {
			sendLines(t, base, logLines("checkout", i*100, 100, now))
		}
		dropped := selfMetric(t, base, `vigil_forward_dropped_total{endpoint="down",signal="logs",reason="queue_full"}`)
		if dropped == 0 {
			_, m := get(t, base+"/metrics")
			for _, l := range strings.Split(m, "\n") {
				if strings.Contains(l, "forward") {
					t.Log(l)
				}
			}
			t.Fatal("a 64 KiB queue of a dead endpoint never dropped anything")
		}
		queued := selfMetric(t, base, `vigil_forward_queued_total{endpoint="down",signal="logs"}`)
		bytes := selfMetric(t, base, `vigil_forward_queue_bytes{endpoint="down"}`)
		if bytes > 64<<10 || bytes == 0 {
			t.Errorf("queue holds %v bytes, max 64 KiB", bytes)
		}
		t.Logf("queued %v lines, dropped %v, %v bytes held (%.1f bytes per line)", queued, dropped, bytes, bytes/(queued-dropped))
	})
	t.Run("backpressure", func(t *testing.T) {
		a, base, _ := forwardApp(t, "", ForwardOTLPConfig{Name: "down", Protocol: "grpc", Endpoint: dead,
			TLS: ForwardTLSConfig{Insecure: true}, Queue: ForwardQueue{MaxSize: 64 * units.KiB, OnFull: "backpressure"}})
		now := time.Now()
		accepted, refused := 0, 0
		for i := 0; i < 200 && refused == 0; i++ {
			req, _ := http.NewRequest("POST", base+"/api/v1/logs", strings.NewReader(string(logLines("checkout", i*100, 100, now))))
			req.Header.Set("Content-Type", "application/x-ndjson")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			switch resp.StatusCode {
			case 200:
				accepted += 100
			case 429:
				refused++
				if resp.Header.Get("Retry-After") == "" {
					t.Error("429 without Retry-After")
				}
			default:
				t.Fatalf("status %d", resp.StatusCode)
			}
		}
		if refused == 0 {
			t.Fatal("a full queue in backpressure mode never refused")
		}
		// Nothing of the refused request was stored locally.
		_, total := logQuery(t, base, "service:checkout", now.Add(-time.Hour), now.Add(time.Hour))
		if total != accepted {
			t.Errorf("local store has %d lines, %d were accepted", total, accepted)
		}
		// Spans are refused too: OTLP/HTTP 429 with Retry-After, gRPC ResourceExhausted with
		// RetryInfo.
		td := ptrace.NewTraces()
		s := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		s.SetTraceID(pcommon.TraceID{1})
		s.SetSpanID(pcommon.SpanID{1})
		s.SetName("x")
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(now))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(now))
		body, _ := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
		req, _ := http.NewRequest("POST", "http://"+a.otlp.HTTPAddr().String()+"/v1/traces", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/x-protobuf")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
			t.Errorf("OTLP/HTTP traces with a full queue: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		conn, err := grpc.NewClient(a.otlp.GRPCAddr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err = ptraceotlp.NewGRPCClient(conn).Export(ctx, ptraceotlp.NewExportRequestFromTraces(td))
		st, _ := status.FromError(err)
		if st.Code() != grpccodes.ResourceExhausted || len(st.Details()) == 0 {
			t.Errorf("OTLP gRPC traces with a full queue: %v (details %v)", err, st.Details())
		}
		// Zipkin: 429 with Retry-After.
		zreq, _ := http.NewRequest("POST", base+"/api/v2/spans", strings.NewReader(fmt.Sprintf(
			`[{"traceId":"5af7183fb1d4cf5f0000000000000009","id":"0000000000000009","name":"z","timestamp":%d,"duration":5,"localEndpoint":{"serviceName":"z"}}]`, now.UnixMicro())))
		zreq.Header.Set("Content-Type", "application/json")
		zresp, err := http.DefaultClient.Do(zreq)
		if err != nil {
			t.Fatal(err)
		}
		zresp.Body.Close()
		if zresp.StatusCode != 429 || zresp.Header.Get("Retry-After") == "" {
			t.Errorf("Zipkin with a full queue: %d, Retry-After %q", zresp.StatusCode, zresp.Header.Get("Retry-After"))
		}
		// And OTLP metrics, before anything is appended.
		md := pmetric.NewMetrics()
		g := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
		g.SetName("refused_gauge")
		dp := g.SetEmptyGauge().DataPoints().AppendEmpty()
		dp.SetTimestamp(pcommon.NewTimestampFromTime(now))
		dp.SetDoubleValue(1)
		mbody, _ := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
		if code, resp := post(t, base+"/api/v1/otlp/v1/metrics", "application/x-protobuf", mbody); code != 429 {
			t.Errorf("OTLP metrics with a full queue: %d %s", code, resp)
		}
		if got := promQuery(t, base, "refused_gauge"); len(got) != 0 {
			t.Errorf("a refused OTLP metrics request was stored: %v", got)
		}
		if n := selfMetric(t, base, `vigil_forward_refused_batches_total{endpoint="down",signal="logs"}`); n == 0 {
			t.Error("refusals not counted")
		}
	})
}

// TestForwardResumesAfterRestart: what was queued while the endpoint was down is sent after
// the forwarding Vigil restarts. It also states the queue's bytes on disk per line and span.
func TestForwardResumesAfterRestart(t *testing.T) {
	recvCfg := testConfig(t)
	recvCfg.OTLPGRPCListen = deadAddr(t)
	ep := fastRetry(ForwardOTLPConfig{Name: "later", Protocol: "grpc", Endpoint: recvCfg.OTLPGRPCListen,
		TLS: ForwardTLSConfig{Insecure: true}, Signals: []string{"logs", "traces"}})
	dir := t.TempDir()
	a, base, stop := forwardApp(t, dir, ep)
	now := time.Now()
	const lines, traces = 3000, 50
	for i := 0; i < lines; i += 500 {
		sendLines(t, base, logLines("resume", i, 500, now))
	}
	lineBytes := selfMetric(t, base, `vigil_forward_queue_bytes{endpoint="later"}`)
	var ids []string
	for i := range traces {
		ids = append(ids, sendTrace(t, a.otlp.GRPCAddr().String(), i))
	}
	spanBytes := selfMetric(t, base, `vigil_forward_queue_bytes{endpoint="later"}`) - lineBytes
	if q := selfMetric(t, base, `vigil_forward_queued_total{endpoint="later",signal="logs"}`); q != lines {
		t.Fatalf("%v lines queued, want %d", q, lines)
	}
	t.Logf("queue on disk: %.1f bytes per line (%d lines in requests of 500), %.1f bytes per span (%d traces of 3 spans, each span its own request: the SDK syncer)",
		lineBytes/lines, lines, spanBytes/(3*traces), traces)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	recv := &receiverVigil{cfg: recvCfg}
	recv.start(t)
	forwardApp(t, dir, ep)
	waitFor(t, "the queued lines at the receiver", 60*time.Second, func() bool {
		_, total := logQuery(t, recv.base, "service:resume", now.Add(-time.Hour), now.Add(time.Hour))
		return total >= lines
	})
	if _, total := logQuery(t, recv.base, "service:resume", now.Add(-time.Hour), now.Add(time.Hour)); total != lines {
		t.Errorf("receiver has %d lines, %d were queued", total, lines)
	}
	for _, id := range ids {
		waitFor(t, "trace "+id+" at the receiver", 30*time.Second, func() bool { return otlpTrace(t, recv.base, id) != "" })
		if n := spanCount(t, otlpTrace(t, recv.base, id)); n != 3 {
			t.Fatalf("trace %s has %d spans at the receiver, want 3", id, n)
		}
	}
}

// TestForwardQueueSurvivesKill9: every line acknowledged by a Vigil whose endpoint is down is
// in its queue on disk: after a SIGKILL and a restart with the endpoint up, each one arrives.
func TestForwardQueueSurvivesKill9(t *testing.T) {
	dir := t.TempDir()
	recvCfg := testConfig(t)
	recvCfg.OTLPGRPCListen = deadAddr(t)
	cfgPath := writeConfig(t, fmt.Sprintf(`forward:
  otlp:
    - {name: later, endpoint: %q, tls: {insecure: true}, signals: [logs], retry_initial_interval: 100ms, retry_max_interval: 1s}
`, recvCfg.OTLPGRPCListen))
	p := startVigil(t, "--data-dir", dir, "--config", cfgPath)
	base := "http://" + p.waitReady(t)

	const maxLines = 4000
	start := time.Now().UTC()
	acked := postLinesUntilKilled(t, p, base, "kill9", start, maxLines)

	recv := &receiverVigil{cfg: recvCfg}
	recv.start(t)
	p2 := startVigil(t, "--data-dir", dir, "--config", cfgPath)
	p2.waitReady(t)
	have := map[int]bool{}
	waitFor(t, "every acknowledged line at the receiver", 60*time.Second, func() bool {
		_, body := get(t, fmt.Sprintf("%s/api/v1/logs/query?q=service:kill9&start=%d&end=%d&limit=5000", recv.base,
			start.Add(-time.Minute).Unix(), time.Now().Add(time.Minute).Unix()))
		var r struct {
			Data struct{ Lines []struct{ Raw string } }
		}
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatalf("log query: %v\n%s", err, body)
		}
		for _, l := range r.Data.Lines {
			var rec struct{ N int }
			if err := json.Unmarshal([]byte(l.Raw), &rec); err == nil {
				have[rec.N] = true
			}
		}
		for _, i := range acked {
			if !have[i] {
				return false
			}
		}
		return true
	})
	t.Logf("acknowledged %d lines before SIGKILL; all of them forwarded after the restart (%d lines arrived)", len(acked), len(have))
}
