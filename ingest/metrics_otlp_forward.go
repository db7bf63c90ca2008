package ingest

import (
	"context"

	"go.opentelemetry.io/collector/pdata/pmetric"
)

// MetricsForwarder is told of every OTLP metrics request the receiver stores, to send it on
// (Vigil's forward.otlp). AdmitMetrics is asked before a request is stored: wanted says whether
// ForwardMetrics should be called for it at all; an error refuses the request whole (with a
// RetryAfter method: 429 / ResourceExhausted with RetryInfo; else 503). ForwardMetrics is
// called once the request is appended, with the request as it arrived (before
// delta-to-cumulative conversion); it returns nil once the request is durably queued and must
// not keep md. An error from it answers 503, so the client sends the request again (the TSDB
// ignores the duplicate samples; a delta request would be counted twice: the forwarder fails
// only on disk errors). Safe for concurrent use.
type MetricsForwarder interface {
	AdmitMetrics(ctx context.Context) (wanted bool, err error)
	ForwardMetrics(ctx context.Context, md pmetric.Metrics) error
}

// SetForwarder makes the receiver hand every stored request to f; call it before serving.
func (m *OTLPMetrics) SetForwarder(f MetricsForwarder) { m.forwarder = f }
