package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	vmetrics "github.com/VictoriaMetrics/metrics"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	grpcgzip "google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// spanCounter is a trace service that only counts spans: the server plumbing is under test
// here, not a store.
type spanCounter struct {
	ptraceotlp.UnimplementedGRPCServer
	spans atomic.Int64
}

func (c *spanCounter) Export(_ context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	c.spans.Add(int64(req.Traces().SpanCount()))
	return ptraceotlp.NewExportResponse(), nil
}

func (c *spanCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		WriteOTLPHTTPError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	req := ptraceotlp.NewExportRequest()
	if err := req.UnmarshalProto(body); err != nil {
		WriteOTLPHTTPError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	c.spans.Add(int64(req.Traces().SpanCount()))
	w.Header().Set("Content-Type", "application/x-protobuf")
	out, _ := ptraceotlp.NewExportResponse().MarshalProto()
	_, _ = w.Write(out)
}

func traceRequest(spans int, attrBytes int) ptraceotlp.ExportRequest {
	td := ptrace.NewTraces()
	ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty()
	for i := 0; i < spans; i++ {
		sp := ss.Spans().AppendEmpty()
		sp.SetName("op")
		sp.SetTraceID([16]byte{1, 2, 3, byte(i + 1)})
		sp.SetSpanID([8]byte{4, 5, byte(i + 1)})
		if attrBytes > 0 {
			sp.Attributes().PutStr("blob", strings.Repeat("a", attrBytes))
		}
	}
	return ptraceotlp.NewExportRequestFromTraces(td)
}

func startOTLP(t *testing.T, limit int64) (*OTLPServer, *spanCounter, *vmetrics.Set) {
	t.Helper()
	set := vmetrics.NewSet()
	s := NewOTLPServer(OTLPOptions{GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", MaxRequestBytes: limit}, set, slog.New(slog.DiscardHandler))
	c := &spanCounter{}
	ptraceotlp.RegisterGRPCServer(s.GRPC(), c)
	s.HandleHTTP("traces", "/v1/traces", c)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
	return s, c, set
}

func TestOTLPGRPC(t *testing.T) {
	s, c, set := startOTLP(t, 64<<10)
	conn, err := grpc.NewClient(s.GRPCAddr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	traces := ptraceotlp.NewGRPCClient(conn)
	if _, err := traces.Export(ctx, traceRequest(3, 0), grpc.UseCompressor(grpcgzip.Name)); err != nil {
		t.Fatalf("gzip export: %v", err)
	}
	if got := c.spans.Load(); got != 3 {
		t.Fatalf("spans = %d, want 3", got)
	}
	_, err = traces.Export(ctx, traceRequest(1, 100<<10))
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("over-size export: %v, want ResourceExhausted", err)
	}
	// Logs are not registered: the standard Unimplemented answer.
	_, err = plogotlp.NewGRPCClient(conn).Export(ctx, plogotlp.NewExportRequest())
	if status.Code(err) != codes.Unimplemented {
		t.Fatalf("logs export: %v, want Unimplemented", err)
	}
	// gRPC reports the end of a call to stats handlers after the client has its answer.
	waitForMetrics(t, set,
		`vigil_grpc_requests_total{method="/opentelemetry.proto.collector.trace.v1.TraceService/Export",code="OK"} 1`,
		`vigil_grpc_requests_total{method="/opentelemetry.proto.collector.trace.v1.TraceService/Export",code="ResourceExhausted"} 1`,
	)
}

// waitForMetrics polls set (for at most 2 s) until it shows every line in wants.
func waitForMetrics(t *testing.T, set *vmetrics.Set, wants ...string) {
	t.Helper()
	var out string
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var sb strings.Builder
		set.WritePrometheus(&sb)
		out = sb.String()
		missing := false
		for _, w := range wants {
			missing = missing || !strings.Contains(out, w)
		}
		if !missing {
			return
		}
	}
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("metrics lack %s", w)
		}
	}
	t.Logf("metrics:\n%s", out)
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestOTLPHTTP(t *testing.T) {
	const limit = 64 << 10
	s, c, set := startOTLP(t, limit)
	base := "http://" + s.HTTPAddr().String()
	small, _ := traceRequest(2, 0).MarshalProto()
	big, _ := traceRequest(1, 100<<10).MarshalProto()

	tests := []struct {
		name      string
		path      string
		encoding  string
		body      []byte
		wantCode  int
		wantSpans int64
		reason    string // counted rejection reason
	}{
		{name: "plain protobuf", path: "/v1/traces", body: small, wantCode: 200, wantSpans: 2},
		{name: "gzip protobuf", path: "/v1/traces", encoding: "gzip", body: gzipped(t, small), wantCode: 200, wantSpans: 2},
		{name: "too large on the wire", path: "/v1/traces", body: big, wantCode: 413, reason: "too_large"},
		{name: "gzip bomb: small on the wire, too large unpacked", path: "/v1/traces", encoding: "gzip", body: gzipped(t, big), wantCode: 413, reason: "too_large"},
		{name: "broken gzip", path: "/v1/traces", encoding: "gzip", body: []byte("not gzip at all"), wantCode: 400, reason: "bad_encoding"},
		{name: "unsupported encoding", path: "/v1/traces", encoding: "br", body: small, wantCode: 415, reason: "unsupported_encoding"},
		{name: "signal not stored", path: "/v1/logs", body: small, wantCode: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := c.spans.Load()
			req, _ := http.NewRequest("POST", base+tt.path, bytes.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/x-protobuf")
			if tt.encoding != "" {
				req.Header.Set("Content-Encoding", tt.encoding)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantCode {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.wantCode, body)
			}
			if got := c.spans.Load() - before; got != tt.wantSpans {
				t.Fatalf("spans stored %d, want %d", got, tt.wantSpans)
			}
			if tt.reason != "" {
				var st rpcstatus.Status
				if err := proto.Unmarshal(body, &st); err != nil || st.Message == "" {
					t.Fatalf("error body is not an OTLP Status with a message: %q (%v)", body, err)
				}
			}
		})
	}
	waitForMetrics(t, set,
		`vigil_ingest_rejected_total{signal="traces",protocol="otlp_http",reason="too_large"} 2`,
		`vigil_ingest_rejected_total{signal="traces",protocol="otlp_http",reason="bad_encoding"} 1`,
		`vigil_ingest_rejected_total{signal="traces",protocol="otlp_http",reason="unsupported_encoding"} 1`,
		`vigil_http_requests_total{server="otlp_http",handler="/v1/traces",code="200"} 2`,
	)
}
