package forward

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/vigilhq/vigil/logs"
	"github.com/vigilhq/vigil/traces"
)

// LogWriter is the local log store as the tee uses it (ingest's LogSink): WriteLogs returns
// nil once the batch is durable and does not keep it.
type LogWriter interface {
	WriteLogs(ctx context.Context, b []logs.Record) error
}

// SpanWriter is the local span store as the tee uses it (ingest's TraceSink).
type SpanWriter interface {
	WriteSpans(ctx context.Context, spans []traces.Span) error
}

// LogTee writes log batches to the local store, then to the queue of every endpoint taking
// logs; it returns nil only once both hold the batch durably. It is an ingest.LogSink. When an
// endpoint in backpressure mode is full it refuses the batch before storing anything, with an
// error that is logs.ErrBusy (429 with Retry-After at the edge).
type LogTee struct {
	f    *Forwarder
	next LogWriter
}

// LogSink wraps the local log store.
func (f *Forwarder) LogSink(next LogWriter) *LogTee { return &LogTee{f: f, next: next} }

// WriteLogs implements ingest.LogSink.
func (t *LogTee) WriteLogs(ctx context.Context, b []logs.Record) error {
	f := t.f
	f.mu.RLock()
	defer f.mu.RUnlock()
	eps, err := f.selecting(SignalLogs)
	if err != nil {
		return err
	}
	if err := t.next.WriteLogs(ctx, b); err != nil {
		return err
	}
	now := time.Now()
	var shared []byte
	var errs []error
	for _, ep := range eps {
		sel := filterLogs(ep.opts.Filter, b)
		if len(sel) == 0 {
			continue
		}
		req := shared
		if req == nil || !ep.opts.Filter.empty() {
			if req, err = plogotlp.NewExportRequestFromLogs(logsToPlog(sel)).MarshalProto(); err != nil {
				errs = append(errs, fmt.Errorf("encode logs for forwarding: %w", err))
				continue
			}
			if ep.opts.Filter.empty() {
				shared = req
			}
		}
		errs = append(errs, f.enqueue(ep, SignalLogs, len(sel), req, now))
	}
	return errors.Join(errs...)
}

// TraceTee is LogTee for spans: an ingest.TraceSink. Its refusal for a full queue carries a
// RetryAfter method (429 / ResourceExhausted with RetryInfo at the edge).
type TraceTee struct {
	f    *Forwarder
	next SpanWriter
}

// TraceSink wraps the local span store.
func (f *Forwarder) TraceSink(next SpanWriter) *TraceTee { return &TraceTee{f: f, next: next} }

// WriteSpans implements ingest.TraceSink.
func (t *TraceTee) WriteSpans(ctx context.Context, spans []traces.Span) error {
	f := t.f
	f.mu.RLock()
	defer f.mu.RUnlock()
	eps, err := f.selecting(SignalTraces)
	if err != nil {
		return err
	}
	if err := t.next.WriteSpans(ctx, spans); err != nil {
		return err
	}
	now := time.Now()
	var shared []byte
	var errs []error
	for _, ep := range eps {
		sel := filterSpans(ep.opts.Filter, spans)
		if len(sel) == 0 {
			continue
		}
		req := shared
		if req == nil || !ep.opts.Filter.empty() {
			if req, err = ptraceotlp.NewExportRequestFromTraces(traces.ToPtrace(sel)).MarshalProto(); err != nil {
				errs = append(errs, fmt.Errorf("encode spans for forwarding: %w", err))
				continue
			}
			if ep.opts.Filter.empty() {
				shared = req
			}
		}
		errs = append(errs, f.enqueue(ep, SignalTraces, len(sel), req, now))
	}
	return errors.Join(errs...)
}
