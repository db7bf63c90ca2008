package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
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
// Spans with an all-zero trace or span id, no start time, an end before the start, or a
// time more than MaxFutureSkew ahead are dropped and reported as an OTLP partial success
// (rejected_spans and a message); the rest are stored. If every span is dropped the request
// fails with InvalidArgument (HTTP 400). Ids of the wrong length make the whole request
// undecodable (pdata refuses them), so they answer 400 too. A sink failure answers
// Unavailable (HTTP 503), which OTLP clients retry.
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

// traceOutcome is how one trace request went.
type traceOutcome struct {
	code     codes.Code // OK, InvalidArgument (nothing usable) or Unavailable (sink)
	err      error
	rejected int64
	message  string
	reason   rejectReason
}

// writeSpans validates and stores spans for one request; convert fills them, calling
// c.ok on each.
func writeSpans(ctx context.Context, sink TraceSink, log *slog.Logger, self *ingestSelfMetrics, c *spanCheck, spans []traces.Span) traceOutcome {
	out := traceOutcome{code: codes.OK, rejected: int64(c.rejected), message: c.message(), reason: c.reason}
	if c.total > 0 && len(spans) == 0 {
		return traceOutcome{code: codes.InvalidArgument, err: errors.New(out.message), rejected: out.rejected, reason: out.reason}
	}
	if len(spans) > 0 {
		if err := sink.WriteSpans(ctx, spans); err != nil {
			log.Error("Spans not stored", "spans", len(spans), "err", err)
			return traceOutcome{code: codes.Unavailable, err: fmt.Errorf("store spans: %w", err), reason: reasonStorage}
		}
	}
	self.addItems(len(spans))
	if out.rejected > 0 {
		log.Debug("Spans partly rejected", "rejected", out.rejected, "of", c.total, "err", out.message)
	}
	return out
}

func (t *OTLPTraces) consume(ctx context.Context, td ptrace.Traces, self *ingestSelfMetrics) traceOutcome {
	c := &spanCheck{now: t.now(), skew: t.opts.MaxFutureSkew}
	spans := convertOTLPTraces(td, c)
	return writeSpans(ctx, t.sink, t.log, self, c, spans)
}

func (o traceOutcome) response() ptraceotlp.ExportResponse {
	resp := ptraceotlp.NewExportResponse()
	if o.rejected > 0 || o.message != "" {
		resp.PartialSuccess().SetRejectedSpans(o.rejected)
		resp.PartialSuccess().SetErrorMessage(o.message)
	}
	return resp
}

// Export implements ptraceotlp.GRPCServer.
func (t *OTLPTraces) Export(ctx context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	out := t.consume(ctx, req.Traces(), t.grpcSelf)
	t.grpcSelf.request(out.code.String())
	if out.reason != "" {
		t.grpcSelf.rejected(out.reason)
	}
	if out.code != codes.OK {
		return ptraceotlp.NewExportResponse(), status.Error(out.code, out.err.Error())
	}
	return out.response(), nil
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
	if r.Method != http.MethodPost {
		http.Error(w, "OTLP traces take POST", http.StatusMethodNotAllowed)
		return http.StatusMethodNotAllowed, reasonBadRequest
	}
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mediaType != otlpProtobuf && mediaType != otlpJSON) {
		msg := fmt.Sprintf("unsupported content type %q, supported: %s, %s", r.Header.Get("Content-Type"), otlpProtobuf, otlpJSON)
		http.Error(w, msg, http.StatusUnsupportedMediaType)
		return http.StatusUnsupportedMediaType, reasonUnsupportedMedia
	}
	fail := func(httpCode int, reason rejectReason, code codes.Code, err error) (int, rejectReason) {
		writeOTLPStatus(w, mediaType, httpCode, status.New(code, err.Error()))
		return httpCode, reason
	}
	body, err := readMetricsBody(w, r, t.opts.MaxRequestBytes)
	switch {
	case errors.Is(err, errBodyTooLarge):
		return fail(http.StatusRequestEntityTooLarge, reasonTooLarge, codes.ResourceExhausted, err)
	case err != nil:
		return fail(http.StatusBadRequest, reasonBadRequest, codes.InvalidArgument, err)
	}
	req := ptraceotlp.NewExportRequest()
	if mediaType == otlpJSON {
		err = req.UnmarshalJSON(body)
	} else {
		err = req.UnmarshalProto(body)
	}
	if err != nil {
		return fail(http.StatusBadRequest, reasonBadRequest, codes.InvalidArgument, fmt.Errorf("decode OTLP traces: %w", err))
	}
	out := t.consume(r.Context(), req.Traces(), t.httpSelf)
	switch out.code {
	case codes.OK:
	case codes.InvalidArgument:
		return fail(http.StatusBadRequest, out.reason, out.code, out.err)
	default:
		return fail(http.StatusServiceUnavailable, out.reason, out.code, out.err)
	}
	resp := out.response()
	var raw []byte
	if mediaType == otlpJSON {
		raw, err = resp.MarshalJSON()
	} else {
		raw, err = resp.MarshalProto()
	}
	if err != nil { // cannot happen for this message; the spans are stored
		t.log.Error("Encode OTLP traces response", "err", err)
		w.WriteHeader(http.StatusOK)
		return http.StatusOK, out.reason
	}
	w.Header().Set("Content-Type", mediaType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(raw)
	return http.StatusOK, out.reason
}
