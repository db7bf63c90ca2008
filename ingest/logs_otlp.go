package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vigilhq/vigil/logs"
)

// OTLPLogs receives OTLP logs over gRPC (it is a plogotlp.GRPCServer) and over HTTP (it is the
// http.Handler for POST /v1/logs, protobuf or JSON) and writes them to a LogSink.
//
// Each LogRecord becomes a logs.Record:
//   - Time: the record's time, else its observed time, else the receive time;
//   - Level: the severity text normalised as for JSON lines, else the severity number's range
//     (1-4 trace, 5-8 debug, 9-12 info, 13-16 warn, 17-20 error, 21-24 fatal);
//   - Message: a string body; for a map body its "message" or "msg" key, the rest of the map
//     flattened into fields; any other body as text (arrays as JSON, bytes as base64);
//   - TraceID, SpanID: lower-case hex, when set;
//   - Fields, in this order: body map, record attributes, event.name, otel.scope.name,
//     otel.scope.version, scope attributes, resource attributes (service.name fills Service),
//     nested maps flattened with dots, arrays as JSON text;
//   - Raw: the flat JSON rendering of appendRecordJSON.
//
// A record whose rendering is over MaxLineBytes is rejected alone and reported as an OTLP
// partial success; if all are rejected the request fails with InvalidArgument (HTTP 400). A
// sink failure answers Unavailable (HTTP 503), which OTLP clients retry.
//
// Safe for concurrent use.
type OTLPLogs struct {
	plogotlp.UnimplementedGRPCServer

	sink     LogSink
	opts     LogsIngestOptions
	grpcSelf logsSelfMetrics
	httpSelf logsSelfMetrics
	log      *slog.Logger
}

var _ plogotlp.GRPCServer = (*OTLPLogs)(nil)

// NewOTLPLogs builds the OTLP logs receiver writing into sink. Register it with
// plogotlp.RegisterGRPCServer(otlp.GRPC(), l) and otlp.HandleHTTP("logs", "/v1/logs", l).
func NewOTLPLogs(sink LogSink, opts LogsIngestOptions, set *metrics.Set, log *slog.Logger) *OTLPLogs {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &OTLPLogs{
		sink:     sink,
		opts:     opts.withDefaults(),
		grpcSelf: newLogsSelfMetrics(set, protoOTLPGRPC),
		httpSelf: newLogsSelfMetrics(set, protoOTLPHTTP),
		log:      log,
	}
}

// Export implements plogotlp.GRPCServer.
func (l *OTLPLogs) Export(ctx context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	out := l.consume(ctx, req.Logs(), l.grpcSelf)
	l.grpcSelf.request(out.code.String())
	if out.reason != "" {
		l.grpcSelf.rejected(out.reason)
	}
	if out.code == codes.ResourceExhausted && out.retryAfter > 0 {
		return plogotlp.NewExportResponse(), retryLater(out.err.Error(), out.retryAfter)
	}
	if out.code != codes.OK {
		return plogotlp.NewExportResponse(), status.Error(out.code, out.err.Error())
	}
	return logsExportResponse(out), nil
}

func logsExportResponse(o otlpOutcome) plogotlp.ExportResponse {
	resp := plogotlp.NewExportResponse()
	if o.rejected > 0 || o.message != "" {
		resp.PartialSuccess().SetRejectedLogRecords(o.rejected)
		resp.PartialSuccess().SetErrorMessage(o.message)
	}
	return resp
}

func (l *OTLPLogs) consume(ctx context.Context, ld plog.Logs, self logsSelfMetrics) otlpOutcome {
	tally := newLineTally(1)
	recs := convertOTLPLogs(ld, l.opts, tally)
	total := len(recs) + tally.rejected
	if len(recs) > 0 {
		if err := l.opts.writeLogs(ctx, l.sink, recs); storeBusy(err) {
			return otlpOutcome{code: codes.ResourceExhausted, err: fmt.Errorf("log store is behind, nothing was stored: retry later: %w", err), reason: reasonStoreBusy, retryAfter: storeBusyRetry}
		} else if errors.Is(err, errTooManyLines) {
			return otlpOutcome{code: codes.ResourceExhausted, err: err, reason: reasonTooLarge}
		} else if err != nil {
			l.log.Error("OTLP logs not stored", "records", len(recs), "err", err)
			return otlpOutcome{code: codes.Unavailable, err: fmt.Errorf("store logs: %w", err), reason: reasonStorage}
		}
	}
	tally.accepted = len(recs)
	tally.record(self)
	if tally.rejected == 0 {
		return otlpOutcome{code: codes.OK}
	}
	first := tally.errors[0]
	msg := fmt.Sprintf("%d of %d log records rejected; first: record %d: %s", tally.rejected, total, first.Line, first.Error)
	if len(recs) == 0 {
		return otlpOutcome{code: codes.InvalidArgument, err: errors.New(msg), reason: tally.firstReason}
	}
	return otlpOutcome{code: codes.OK, rejected: int64(tally.rejected), message: truncateMessage(msg, maxPartialMessage), reason: tally.firstReason}
}

// convertOTLPLogs turns every log record of ld into a logs.Record, rejecting those whose
// rendering is over the line limit.
func convertOTLPLogs(ld plog.Logs, opts LogsIngestOptions, tally *lineTally) []logs.Record {
	now := opts.now()
	recs := make([]logs.Record, 0, ld.LogRecordCount())
	var b recordBuilder
	var raw []byte
	idx := 0
	for _, rl := range ld.ResourceLogs().All() {
		res := rl.Resource().Attributes()
		for _, sl := range rl.ScopeLogs().All() {
			scope := sl.Scope()
			for _, lr := range sl.LogRecords().All() {
				b.reset(true)
				fillOTLPRecord(&b, lr, scope, res)
				rec := b.finish(otlpRecordTime(lr, now), nil)
				raw = appendRecordJSON(raw[:0], &rec)
				if len(raw) > opts.MaxLineBytes {
					tally.reject(idx, reasonTooLarge, fmt.Errorf("record of %d bytes (as JSON) is over the limit of %d bytes", len(raw), opts.MaxLineBytes))
				} else {
					rec.Raw = append([]byte(nil), raw...)
					recs = append(recs, rec)
				}
				idx++
			}
		}
	}
	return recs
}

func otlpRecordTime(lr plog.LogRecord, now time.Time) time.Time {
	switch {
	case lr.Timestamp() != 0:
		return lr.Timestamp().AsTime().UTC()
	case lr.ObservedTimestamp() != 0:
		return lr.ObservedTimestamp().AsTime().UTC()
	default:
		return now
	}
}

func fillOTLPRecord(b *recordBuilder, lr plog.LogRecord, scope pcommon.InstrumentationScope, res pcommon.Map) {
	if lvl := normaliseLevel(lr.SeverityText(), logs.KindString); lvl != "" {
		b.rec.Level = lvl
	} else {
		b.rec.Level = severityNumberLevel(lr.SeverityNumber())
	}
	if id := lr.TraceID(); !id.IsEmpty() {
		b.rec.TraceID = id.String()
	}
	if id := lr.SpanID(); !id.IsEmpty() {
		b.rec.SpanID = id.String()
	}
	switch body := lr.Body(); body.Type() {
	case pcommon.ValueTypeEmpty:
	case pcommon.ValueTypeMap:
		addOTLPMap(b, "", body.Map(), 0)
	default:
		b.rec.Message = body.AsString()
	}
	addOTLPMap(b, "", lr.Attributes(), 0)
	if n := lr.EventName(); n != "" {
		b.add("event.name", n, logs.KindString)
	}
	if n := scope.Name(); n != "" {
		b.add("otel.scope.name", n, logs.KindString)
	}
	if v := scope.Version(); v != "" {
		b.add("otel.scope.version", v, logs.KindString)
	}
	addOTLPMap(b, "", scope.Attributes(), 0)
	addOTLPMap(b, "", res, 0)
}

func severityNumberLevel(n plog.SeverityNumber) string {
	switch {
	case n <= 0:
		return ""
	case n <= 4:
		return "trace"
	case n <= 8:
		return "debug"
	case n <= 12:
		return "info"
	case n <= 16:
		return "warn"
	case n <= 20:
		return "error"
	default:
		return "fatal"
	}
}

func addOTLPMap(b *recordBuilder, prefix string, m pcommon.Map, depth int) {
	for k, v := range m.All() {
		addOTLPValue(b, prefix+k, v, depth)
	}
}

func addOTLPValue(b *recordBuilder, key string, v pcommon.Value, depth int) {
	switch v.Type() {
	case pcommon.ValueTypeEmpty:
	case pcommon.ValueTypeStr:
		b.add(key, v.Str(), logs.KindString)
	case pcommon.ValueTypeInt:
		b.add(key, strconv.FormatInt(v.Int(), 10), logs.KindNumber)
	case pcommon.ValueTypeDouble:
		s, kind := formatFloatField(v.Double())
		b.add(key, s, kind)
	case pcommon.ValueTypeBool:
		b.add(key, strconv.FormatBool(v.Bool()), logs.KindBool)
	case pcommon.ValueTypeMap:
		if depth+1 >= flattenMaxDepth {
			b.add(key, v.AsString(), logs.KindString)
			return
		}
		addOTLPMap(b, key+".", v.Map(), depth+1)
	default: // slices as JSON, bytes as base64
		b.add(key, v.AsString(), logs.KindString)
	}
}
