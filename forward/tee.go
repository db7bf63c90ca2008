package forward

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
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
	return f.enqueueEach(eps, SignalLogs, func(ep *endpoint) ([]Payload, error) {
		sel := filterLogs(ep.opts.Filter, b)
		return splitEncode(sel, ep.opts.MaxBatchBytes, func(recs []logs.Record) ([]byte, int, error) {
			req, err := plogotlp.NewExportRequestFromLogs(logsToPlog(recs)).MarshalProto()
			return req, len(recs), err
		})
	})
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
	return f.enqueueEach(eps, SignalTraces, func(ep *endpoint) ([]Payload, error) {
		sel := filterSpans(ep.opts.Filter, spans)
		return splitEncode(sel, ep.opts.MaxBatchBytes, func(ss []traces.Span) ([]byte, int, error) {
			req, err := ptraceotlp.NewExportRequestFromTraces(traces.ToPtrace(ss)).MarshalProto()
			return req, len(ss), err
		})
	})
}

// ForwardMetrics queues an OTLP metrics request, already appended locally, for every endpoint
// taking metrics (filtered by resource attributes). It does not keep md.
func (f *Forwarder) ForwardMetrics(_ context.Context, md pmetric.Metrics) error {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var eps []*endpoint
	for _, ep := range f.eps {
		if ep.opts.selects(SignalMetrics) {
			eps = append(eps, ep)
		}
	}
	return f.enqueueEach(eps, SignalMetrics, func(ep *endpoint) ([]Payload, error) {
		sel := filterMetrics(ep.opts.Filter, md).ResourceMetrics()
		idx := make([]int, sel.Len())
		for i := range idx {
			idx[i] = i
		}
		// Split between resources; one resource's metrics stay in one request.
		return splitEncode(idx, ep.opts.MaxBatchBytes, func(is []int) ([]byte, int, error) {
			part := pmetric.NewMetrics()
			for _, i := range is {
				sel.At(i).CopyTo(part.ResourceMetrics().AppendEmpty())
			}
			req, err := pmetricotlp.NewExportRequestFromMetrics(part).MarshalProto()
			return req, part.DataPointCount(), err
		})
	})
}

// enqueueEach appends, for each endpoint, the requests encode makes of a batch. Endpoints
// with no filter and the same batch size share one encoding.
func (f *Forwarder) enqueueEach(eps []*endpoint, sig Signal, encode func(*endpoint) ([]Payload, error)) error {
	now := time.Now()
	shared := map[int][]Payload{} // by MaxBatchBytes, for endpoints without a filter
	var errs []error
	for _, ep := range eps {
		ps, ok := shared[ep.opts.MaxBatchBytes]
		if !ok || !ep.opts.Filter.empty() {
			var err error
			if ps, err = encode(ep); err != nil {
				errs = append(errs, fmt.Errorf("encode %s for forwarding to %q: %w", sig, ep.opts.Name, err))
				continue
			}
			if ep.opts.Filter.empty() {
				shared[ep.opts.MaxBatchBytes] = ps
			}
		}
		errs = append(errs, f.enqueue(ep, sig, ps, now))
	}
	return errors.Join(errs...)
}

// splitEncode encodes items as one request, or, when that is over maxBytes, as several, each
// at most maxBytes unless it holds one item.
func splitEncode[T any](items []T, maxBytes int, encode func([]T) ([]byte, int, error)) ([]Payload, error) {
	if len(items) == 0 {
		return nil, nil
	}
	b, n, err := encode(items)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, nil
	}
	if len(b) <= maxBytes || len(items) == 1 {
		return []Payload{{Items: n, Bytes: b}}, nil
	}
	parts := (len(b) + maxBytes - 1) / maxBytes
	size := max(1, len(items)/parts) // a little under maxBytes each, items being alike
	var out []Payload
	for i := 0; i < len(items); i += size {
		ps, err := splitEncode(items[i:min(i+size, len(items))], maxBytes, encode)
		if err != nil {
			return nil, err
		}
		out = append(out, ps...)
	}
	return out, nil
}
