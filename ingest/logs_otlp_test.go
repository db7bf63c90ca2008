package ingest

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// startOTLPLogs serves l on a real OTLPServer (gRPC and HTTP) on 127.0.0.1.
func startOTLPLogs(t *testing.T, l *OTLPLogs) *OTLPServer {
	t.Helper()
	opts := DefaultOTLPOptions()
	opts.GRPCAddr, opts.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	s := NewOTLPServer(opts, metrics.NewSet(), slog.New(slog.DiscardHandler))
	plogotlp.RegisterGRPCServer(s.GRPC(), l)
	s.HandleHTTP("logs", "/v1/logs", l)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Errorf("stop OTLP server: %v", err)
		}
	})
	return s
}

func TestOTLPLogsWithSDKExporters(t *testing.T) {
	for _, tc := range []struct{ transport, protocol string }{
		{"grpc", protoOTLPGRPC},
		{"http", protoOTLPHTTP},
	} {
		t.Run(tc.transport, func(t *testing.T) {
			ctx := context.Background()
			sink := &recordingSink{}
			set := metrics.NewSet()
			srv := startOTLPLogs(t, NewOTLPLogs(sink, testLogsOptions(), set, nil))

			var exp sdklog.Exporter
			var err error
			if tc.transport == "grpc" {
				exp, err = otlploggrpc.New(ctx, otlploggrpc.WithEndpoint(srv.GRPCAddr().String()),
					otlploggrpc.WithInsecure(), otlploggrpc.WithCompressor("gzip"))
			} else {
				exp, err = otlploghttp.New(ctx, otlploghttp.WithEndpointURL("http://"+srv.HTTPAddr().String()+"/v1/logs"),
					otlploghttp.WithCompression(otlploghttp.GzipCompression))
			}
			if err != nil {
				t.Fatalf("exporter: %v", err)
			}
			lp := sdklog.NewLoggerProvider(
				sdklog.WithResource(resource.NewSchemaless(
					attribute.String("service.name", "checkout"),
					attribute.String("host.name", "node-1"),
				)),
				sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)),
			)
			logger := lp.Logger("shop/checkout", otellog.WithInstrumentationVersion("1.4.0"))

			traceID, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
			spanID, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
			spanCtx := trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
				TraceID: traceID, SpanID: spanID, TraceFlags: trace.FlagsSampled,
			}))
			ts := time.Date(2025, 3, 1, 10, 0, 0, 123456789, time.UTC)

			var r1 otellog.Record
			r1.SetTimestamp(ts)
			r1.SetSeverity(otellog.SeverityError)
			r1.SetSeverityText("ERROR")
			r1.SetBody(attribute.StringValue("payment failed"))
			r1.AddAttributes(
				attribute.String("http.method", "POST"),
				attribute.Int("http.status", 502),
				attribute.Float64("ratio", 0.25),
				attribute.Bool("retry", true),
				attribute.Map("user", attribute.String("id", "u-1"), attribute.Int("tier", 2)),
				attribute.StringSlice("tags", []string{"a", "b"}),
			)
			logger.Emit(spanCtx, r1)

			var r2 otellog.Record
			r2.SetTimestamp(ts.Add(time.Second))
			r2.SetSeverity(otellog.SeverityWarn2) // no text: level from the number
			r2.SetEventName("order.retried")
			r2.SetBody(attribute.MapValue(
				attribute.String("message", "retrying order"),
				attribute.Int("attempt", 3),
				attribute.Map("order", attribute.String("id", "o-9")),
			))
			logger.Emit(ctx, r2)

			var r3 otellog.Record
			r3.SetTimestamp(ts.Add(2 * time.Second))
			r3.SetBody(attribute.Int64Value(42)) // a non-string body is the message as text
			logger.Emit(ctx, r3)

			if err := lp.Shutdown(ctx); err != nil {
				t.Fatalf("shutdown logger provider: %v", err)
			}
			recs := sink.records()
			checkGolden(t, "otlp_sdk", 0, nil, recs)
			if got := counterValue(set, logsItemsName(tc.protocol)); got != 3 {
				t.Errorf("items = %d, want 3", got)
			}
			wantCode := "200"
			if tc.transport == "grpc" {
				wantCode = "OK"
			}
			if got := counterValue(set, logsRequestsName(tc.protocol, wantCode)); got == 0 {
				t.Errorf("requests{code=%s} not counted", wantCode)
			}
		})
	}
}

// TestOTLPLogsPartialSuccess sends records over a plain gRPC client: too-large ones are
// reported as partial success, all-bad is InvalidArgument, a sink failure Unavailable.
func TestOTLPLogsPartialSuccess(t *testing.T) {
	opts := testLogsOptions()
	opts.MaxLineBytes = 200
	sink := &recordingSink{}
	set := metrics.NewSet()
	srv := startOTLPLogs(t, NewOTLPLogs(sink, opts, set, nil))
	conn, err := grpc.NewClient(srv.GRPCAddr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := plogotlp.NewGRPCClient(conn)

	request := func(bodies ...string) plogotlp.ExportRequest {
		ld := plog.NewLogs()
		lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
		for _, b := range bodies {
			lrs.AppendEmpty().Body().SetStr(b)
		}
		return plogotlp.NewExportRequestFromLogs(ld)
	}
	big := strings.Repeat("x", 300)
	ctx := context.Background()

	resp, err := client.Export(ctx, request("fine", big, "also fine"))
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	if got := resp.PartialSuccess().RejectedLogRecords(); got != 1 {
		t.Errorf("rejected = %d, want 1", got)
	}
	if msg := resp.PartialSuccess().ErrorMessage(); !strings.Contains(msg, "record 1") || !strings.Contains(msg, "over the limit") {
		t.Errorf("partial success message %q", msg)
	}
	if n := len(sink.records()); n != 2 {
		t.Errorf("stored %d records, want 2", n)
	}

	_, err = client.Export(ctx, request(big))
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("all rejected: %v, want InvalidArgument", err)
	}

	sink.err = errors.New("disk full")
	_, err = client.Export(ctx, request("fine"))
	if status.Code(err) != codes.Unavailable {
		t.Errorf("sink failure: %v, want Unavailable", err)
	}
	for name, want := range map[string]uint64{
		logsRejectedItemsName(protoOTLPGRPC, reasonTooLarge): 2,
		logsRejectedName(protoOTLPGRPC, reasonTooLarge):      2,
		logsRejectedName(protoOTLPGRPC, reasonStorage):       1,
		logsItemsName(protoOTLPGRPC):                         2,
	} {
		if got := counterValue(set, name); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
}
