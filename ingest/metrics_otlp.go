package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/processor"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// OTLPMetrics receives OTLP metrics over gRPC (it is a pmetricotlp.GRPCServer)
// and over HTTP (it is the http.Handler for POST /v1/metrics and for
// Prometheus's path POST /api/v1/otlp/v1/metrics), translates them with
// Prometheus's OTLP translator (same names as Prometheus's OTLP receiver:
// suffixes added, resource attributes on target_info, service.name and
// service.instance.id as job and instance, exponential histograms as native
// histograms) and appends to storage. Delta sums and histograms are turned
// cumulative in memory, as Prometheus's ConvertDelta option does.
//
// Points that storage refuses as bad input (out of order, over a label limit)
// or that cannot be translated are dropped and reported as an OTLP partial
// success; if every point is refused the request fails with InvalidArgument
// (HTTP 400). Storage failures roll the request back and answer Unavailable
// (HTTP 503), which OTLP clients retry.
//
// Safe for concurrent use. Close stops the delta-to-cumulative sweeper.
type OTLPMetrics struct {
	pmetricotlp.UnimplementedGRPCServer

	opts     MetricsIngestOptions
	exporter consumer.Metrics
	d2c      processor.Metrics
	grpcSelf *ingestSelfMetrics
	httpSelf *ingestSelfMetrics
	log      *slog.Logger
	// forwarder, when set, is given every stored request (metrics_otlp_forward.go).
	forwarder MetricsForwarder
}

var _ pmetricotlp.GRPCServer = (*OTLPMetrics)(nil)

// NewOTLPMetrics builds the OTLP metrics receiver writing into app.
func NewOTLPMetrics(app MetricsAppendable, opts MetricsIngestOptions, set *metrics.Set, log *slog.Logger) (*OTLPMetrics, error) {
	opts = opts.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if set == nil {
		set = metrics.NewSet()
	}
	m := &OTLPMetrics{
		opts:     opts,
		grpcSelf: newIngestSelfMetrics(set, "metrics", protoOTLPGRPC),
		httpSelf: newIngestSelfMetrics(set, "metrics", protoOTLPHTTP),
		log:      log,
	}
	// One pipeline for both transports, so delta streams keep their state
	// whichever way they arrive; each request's tally names its transport
	// for vigil_ingest_items_total.
	m.exporter = newOTLPMetricsExporter(&tallyingAppendable{
		next:   app,
		policy: appendPolicy{opts: opts, checkLimits: true, dropRejected: true},
		self:   m.httpSelf,
	}, log)
	d2c, err := newDeltaToCumulative(m.exporter)
	if err != nil {
		return nil, fmt.Errorf("new OTLP metrics receiver: %w", err)
	}
	m.d2c = d2c
	return m, nil
}

// Close stops the delta-to-cumulative processor's background sweeper.
func (m *OTLPMetrics) Close() error {
	if err := m.d2c.Shutdown(context.Background()); err != nil {
		return fmt.Errorf("shut down delta-to-cumulative processor: %w", err)
	}
	return nil
}

// otlpOutcome is how one OTLP request went.
type otlpOutcome struct {
	// code is OK, InvalidArgument (nothing usable, or over the series
	// limit) or Unavailable (storage; retry).
	code codes.Code
	// err explains a non-OK code.
	err error
	// rejected and message fill the partial success of an OK answer.
	rejected int64
	message  string
	// reason is set when anything was rejected.
	reason rejectReason
	// retryAfter, with code ResourceExhausted, is when the client should try again (429
	// Retry-After over HTTP, RetryInfo over gRPC).
	retryAfter time.Duration
}

// maxPartialMessage bounds the error text sent back to clients.
const maxPartialMessage = 1024

func (m *OTLPMetrics) consume(ctx context.Context, md pmetric.Metrics, self *ingestSelfMetrics) otlpOutcome {
	total := md.DataPointCount()
	unconvertible := unconvertiblePoints(md) // before delta conversion mutates md
	tally := &appendTally{self: self, seriesBound: otlpSeriesBound(md)}
	ctx = withTally(ctx, tally)

	var err error
	orig, forward := md, false
	if m.forwarder != nil {
		if forward, err = m.forwarder.AdmitMetrics(ctx); err != nil {
			if d := sinkRetryAfter(err); d > 0 {
				return otlpOutcome{code: codes.ResourceExhausted, err: err, reason: reasonStoreBusy, retryAfter: d}
			}
			return otlpOutcome{code: codes.Unavailable, err: err, reason: reasonStorage}
		}
		if forward && hasDelta(md) { // the conversion below rewrites md; forward what arrived
			orig = pmetric.NewMetrics()
			md.CopyTo(orig)
		}
	}
	if hasDelta(md) {
		err = m.d2c.ConsumeMetrics(ctx, md)
	} else {
		err = m.exporter.ConsumeMetrics(ctx, md)
	}
	if err != nil {
		if errors.Is(err, errTooManySeries) {
			return otlpOutcome{code: codes.InvalidArgument, err: err, reason: reasonTooManySeries}
		}
		m.log.Error("OTLP metrics not stored", "err", err)
		return otlpOutcome{code: codes.Unavailable, err: err, reason: reasonStorage}
	}
	if forward {
		if err := m.forwarder.ForwardMetrics(ctx, orig); err != nil {
			m.log.Error("OTLP metrics stored but not queued for forwarding", "err", err)
			return otlpOutcome{code: codes.Unavailable, err: err, reason: reasonStorage}
		}
	}

	out := otlpOutcome{code: codes.OK, rejected: int64(min(tally.rejected+unconvertible, total))}
	if tally.rejected == 0 && tally.convErr == nil && unconvertible == 0 {
		return out
	}
	out.reason = tally.reason
	if out.reason == "" {
		out.reason = reasonBadRequest
	}
	out.message = truncateMessage(errors.Join(tally.firstErr, tally.convErr).Error(), maxPartialMessage)
	m.log.Debug("OTLP metrics partly rejected", "rejected_points", out.rejected, "of", total, "err", out.message)
	if total > 0 && out.rejected >= int64(total) {
		return otlpOutcome{code: codes.InvalidArgument, err: errors.New(out.message), reason: out.reason}
	}
	return out
}

func truncateMessage(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// Export implements pmetricotlp.GRPCServer.
func (m *OTLPMetrics) Export(ctx context.Context, req pmetricotlp.ExportRequest) (pmetricotlp.ExportResponse, error) {
	out := m.consume(ctx, req.Metrics(), m.grpcSelf)
	m.grpcSelf.request(out.code.String())
	if out.reason != "" {
		m.grpcSelf.rejected(out.reason)
	}
	if out.code == codes.ResourceExhausted && out.retryAfter > 0 {
		return pmetricotlp.NewExportResponse(), retryLater(out.err.Error(), out.retryAfter)
	}
	if out.code != codes.OK {
		return pmetricotlp.NewExportResponse(), status.Error(out.code, out.err.Error())
	}
	return out.response(), nil
}

func (o otlpOutcome) response() pmetricotlp.ExportResponse {
	resp := pmetricotlp.NewExportResponse()
	if o.rejected > 0 || o.message != "" {
		resp.PartialSuccess().SetRejectedDataPoints(o.rejected)
		resp.PartialSuccess().SetErrorMessage(o.message)
	}
	return resp
}
