package ingest

import (
	"fmt"

	"github.com/VictoriaMetrics/metrics"
)

// Protocol label values of Vigil's metrics-ingest self-metrics.
const (
	protoRemoteWrite = "remote_write"
	protoOTLPGRPC    = "otlp_grpc"
	protoOTLPHTTP    = "otlp_http"
	protoImport      = "import"
)

// rejectReason is the reason label of vigil_ingest_rejected_total.
type rejectReason string

const (
	reasonTooLarge         rejectReason = "too_large"
	reasonUnsupportedMedia rejectReason = "unsupported_media_type"
	reasonBadRequest       rejectReason = "bad_request"
	reasonBadLabels        rejectReason = "bad_labels"
	reasonOutOfOrder       rejectReason = "out_of_order"
	reasonTooManySeries    rejectReason = "too_many_series"
	reasonStorage          rejectReason = "storage"
	reasonSeriesLimit      rejectReason = "series_limit"
)

// ingestSelfMetrics counts one protocol's traffic on the component's
// *metrics.Set. The names are a project contract:
//
//   - vigil_ingest_items_total{signal,protocol}: samples and native histogram
//     samples committed to storage (an OTLP classic histogram point becomes
//     several samples; target_info samples count too).
//   - vigil_ingest_rejected_total{signal,protocol,reason}: REQUESTS that were
//     rejected in full or in part (a 4xx/5xx answer, or an OTLP partial
//     success), once per request, by the first reason found. Per-item detail
//     goes to the log and to Prometheus's own counters (see
//     MetricsIngestOptions.Registerer).
//   - vigil_ingest_requests_total{signal,protocol,code}: every request, by
//     HTTP status code, or by gRPC code name (e.g. "OK", "InvalidArgument")
//     for otlp_grpc.
//
// Safe for concurrent use.
type ingestSelfMetrics struct {
	set      *metrics.Set
	signal   string
	protocol string
	items    *metrics.Counter
}

func newIngestSelfMetrics(set *metrics.Set, signal, protocol string) *ingestSelfMetrics {
	if set == nil {
		set = metrics.NewSet() // unexposed; keeps the handlers nil-safe in tests
	}
	return &ingestSelfMetrics{
		set:      set,
		signal:   signal,
		protocol: protocol,
		items: set.GetOrCreateCounter(fmt.Sprintf(
			`vigil_ingest_items_total{signal=%q,protocol=%q}`, signal, protocol)),
	}
}

func (m *ingestSelfMetrics) addItems(n int) {
	if n > 0 {
		m.items.Add(n)
	}
}

func (m *ingestSelfMetrics) rejected(r rejectReason) {
	m.set.GetOrCreateCounter(fmt.Sprintf(
		`vigil_ingest_rejected_total{signal=%q,protocol=%q,reason=%q}`, m.signal, m.protocol, r)).Inc()
}

func (m *ingestSelfMetrics) request(code string) {
	m.set.GetOrCreateCounter(fmt.Sprintf(
		`vigil_ingest_requests_total{signal=%q,protocol=%q,code=%q}`, m.signal, m.protocol, code)).Inc()
}
