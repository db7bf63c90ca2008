package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vigilhq/vigil/traces"
)

// OTLPTraces receives OTLP traces over gRPC (it is a ptraceotlp.GRPCServer) and over HTTP
// (it is the http.Handler for POST /v1/traces, protobuf or JSON), converts them to
// traces.Span and writes them through a TraceSink.
//
// Spans with an all-zero trace or span id, a trace, span, parent or link id of the wrong
// length (traces_otlp_ids.go), no start time, an end before the start, or a time more than
// MaxFutureSkew ahead are dropped and reported as an OTLP partial success (rejected_spans
// and a message); the rest are stored. Rejected spans are counted by reason in
// vigil_ingest_rejected_items_total{signal="traces"}. If every span is dropped the request
// fails with InvalidArgument (HTTP 400). A sink failure answers Unavailable (HTTP 503),
// which OTLP clients retry.
//
// Register it on a gRPC server with RegisterGRPC (not ptraceotlp.RegisterGRPCServer,
// whose decoder refuses a whole request for one id of the wrong length).
//
// Safe for concurrent use.
type OTLPTraces struct {
	ptraceotlp.UnimplementedGRPCServer

	sink     TraceSink
	opts     TracesIngestOptions
	grpcSelf *ingestSelfMetrics
	httpSelf *ingestSelfMetrics
	log      *slog.Logger
	now      func() time.Time
}

var _ ptraceotlp.GRPCServer = (*OTLPTraces)(nil)

// NewOTLPTraces returns the OTLP trace receiver writing into sink.
func NewOTLPTraces(sink TraceSink, opts TracesIngestOptions, set *metrics.Set, log *slog.Logger) (*OTLPTraces, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("new OTLP traces receiver: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &OTLPTraces{
		sink:     sink,
		opts:     opts,
		grpcSelf: newIngestSelfMetrics(set, "traces", protoOTLPGRPC),
		httpSelf: newIngestSelfMetrics(set, "traces", protoOTLPHTTP),
		log:      log,
		now:      time.Now,
	}, nil
}

// writeSpans validates and stores spans for one request; convert fills them, calling
// c.ok on each.
func writeSpans(ctx context.Context, sink TraceSink, log *slog.Logger, self *ingestSelfMetrics, c *spanCheck, spans []traces.Span) otlpOutcome {
	if n := c.limits.maxSpans; n > 0 && c.total > n {
		return otlpOutcome{code: codes.ResourceExhausted, reason: reasonTooLarge,
			err: fmt.Errorf("%d spans in one request, the limit is %d (traces.max_spans_per_request): split the request", c.total, n)}
	}
	out := otlpOutcome{code: codes.OK, rejected: int64(c.rejected), message: c.message(), reason: c.reason}
	if c.total > 0 && len(spans) == 0 {
		countRejectedSpans(self, c)
		return otlpOutcome{code: codes.InvalidArgument, err: errors.New(out.message), rejected: out.rejected, reason: out.reason}
	}
	if len(spans) > 0 {
		if err := sink.WriteSpans(ctx, spans); err != nil {
			if d := sinkRetryAfter(err); d > 0 { // nothing stored; the sink asks for a retry
				return otlpOutcome{code: codes.ResourceExhausted, err: err, reason: reasonStoreBusy, retryAfter: d}
			}
			log.Error("Spans not stored", "spans", len(spans), "err", err)
			return otlpOutcome{code: codes.Unavailable, err: fmt.Errorf("store spans: %w", err), reason: reasonStorage}
		}
	}
	self.addItems(len(spans))
	countRejectedSpans(self, c)
	if out.rejected > 0 {
		log.Debug("Spans partly rejected", "rejected", out.rejected, "of", c.total, "err", out.message)
	}
	return out
}

// countRejectedSpans adds c's rejections to vigil_ingest_rejected_items_total, by reason.
func countRejectedSpans(m *ingestSelfMetrics, c *spanCheck) {
	for r, n := range c.byReason {
		m.set.GetOrCreateCounter(fmt.Sprintf(
			`vigil_ingest_rejected_items_total{signal=%q,protocol=%q,reason=%q}`, m.signal, m.protocol, r)).Add(n)
	}
	truncated := func(what string, n int) {
		if n > 0 { // most requests: nothing cut, no counter lookup
			m.set.GetOrCreateCounter(fmt.Sprintf(
				`vigil_ingest_truncated_total{signal=%q,protocol=%q,what=%q}`, m.signal, m.protocol, what)).Add(n)
		}
	}
	truncated("attribute", c.droppedAttrs)
	truncated("attribute_value", c.cutValues)
}

func (t *OTLPTraces) newCheck() *spanCheck {
	return &spanCheck{now: t.now(), skew: t.opts.MaxFutureSkew, limits: t.opts.attrLimits()}
}

// consumeRequest stores a decoded request.
func (t *OTLPTraces) consumeRequest(ctx context.Context, r *tracesRequest, self *ingestSelfMetrics) otlpOutcome {
	if r.fast {
		return writeSpans(ctx, t.sink, t.log, self, r.check, r.spans)
	}
	return t.consume(ctx, r.req.Traces(), r.check, self)
}

// consume stores td; c already holds the spans dropped while decoding.
func (t *OTLPTraces) consume(ctx context.Context, td ptrace.Traces, c *spanCheck, self *ingestSelfMetrics) otlpOutcome {
	spans := convertOTLPTraces(td, c)
	return writeSpans(ctx, t.sink, t.log, self, c, spans)
}

func tracesExportResponse(o otlpOutcome) ptraceotlp.ExportResponse {
	resp := ptraceotlp.NewExportResponse()
	if o.rejected > 0 || o.message != "" {
		resp.PartialSuccess().SetRejectedSpans(o.rejected)
		resp.PartialSuccess().SetErrorMessage(o.message)
	}
	return resp
}

// Export implements ptraceotlp.GRPCServer.
func (t *OTLPTraces) Export(ctx context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	return t.export(ctx, req.Traces(), t.newCheck())
}

func (t *OTLPTraces) export(ctx context.Context, td ptrace.Traces, c *spanCheck) (ptraceotlp.ExportResponse, error) {
	return t.answerGRPC(t.consume(ctx, td, c, t.grpcSelf))
}

func (t *OTLPTraces) answerGRPC(out otlpOutcome) (ptraceotlp.ExportResponse, error) {
	t.grpcSelf.request(out.code.String())
	if out.reason != "" {
		t.grpcSelf.rejected(out.reason)
	}
	if out.code == codes.ResourceExhausted && out.retryAfter > 0 {
		return ptraceotlp.NewExportResponse(), retryLater(out.err.Error(), out.retryAfter)
	}
	if out.code != codes.OK {
		return ptraceotlp.NewExportResponse(), status.Error(out.code, out.err.Error())
	}
	return tracesExportResponse(out), nil
}

// ServeHTTP serves OTLP/HTTP traces: POST with a protobuf or JSON ExportTraceServiceRequest;
// the answer (an ExportTraceServiceResponse, or a google.rpc.Status on failure) is in the
// same encoding. The OTLP HTTP server has already undone Content-Encoding and bounded the
// body (OTLPServer.HandleHTTP).
func (t *OTLPTraces) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	code, reason := t.serveHTTP(w, r)
	t.httpSelf.request(strconv.Itoa(code))
	if reason != "" {
		t.httpSelf.rejected(reason)
	}
}

func (t *OTLPTraces) serveHTTP(w http.ResponseWriter, r *http.Request) (int, rejectReason) {
	req := newTracesRequest(t.newCheck())
	return serveOTLPExport(w, r, otlpExport{
		signal: "traces",
		readBody: func(w http.ResponseWriter, r *http.Request) ([]byte, error) {
			return readMetricsBody(w, r, t.opts.MaxRequestBytes)
		},
		request: req,
		consume: func(ctx context.Context) otlpOutcome { return t.consumeRequest(ctx, req, t.httpSelf) },
		respond: func(o otlpOutcome) otlpResponse { return tracesExportResponse(o) },
		log:     t.log,
	})
}
