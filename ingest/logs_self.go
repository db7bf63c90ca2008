package ingest

import (
	"fmt"

	"github.com/VictoriaMetrics/metrics"
)

// Protocol label values of the log-ingest self-metrics (otlp_grpc and otlp_http are shared
// with the metrics signal).
const (
	protoJSONLines = "jsonlines"
	protoLoki      = "loki"
	protoESBulk    = "es_bulk"
)

// Reasons a log line or a log request is rejected (the reason label).
const (
	reasonNotObject         rejectReason = "not_object"   // valid JSON, but not an object
	reasonBadJSON           rejectReason = "bad_json"     // not JSON at all
	reasonBadTime           rejectReason = "bad_time"     // a time field that does not parse
	reasonBadEncoding       rejectReason = "bad_encoding" // broken gzip, zstd or snappy
	reasonUnsupportedEncode rejectReason = "unsupported_encoding"
	reasonUnsupportedAction rejectReason = "unsupported_action" // Elasticsearch delete/update
	reasonStoreBusy         rejectReason = "store_busy"         // the store is behind: 429, retry
)

// logsSelfMetrics counts one log protocol's traffic. It keeps the project's contract of
// ingestSelfMetrics (items stored; requests rejected in full or in part, once each, by the
// first reason; requests by code) and adds, because a log request is rejected line by line:
//
//   - vigil_ingest_rejected_items_total{signal="logs",protocol,reason}: lines (records,
//     bulk items, entries) rejected, by reason.
//
// Safe for concurrent use.
type logsSelfMetrics struct {
	*ingestSelfMetrics
}

func newLogsSelfMetrics(set *metrics.Set, protocol string) logsSelfMetrics {
	return logsSelfMetrics{newIngestSelfMetrics(set, "logs", protocol)}
}

func (m logsSelfMetrics) rejectedItems(r rejectReason, n int) {
	if n <= 0 {
		return
	}
	m.set.GetOrCreateCounter(fmt.Sprintf(
		`vigil_ingest_rejected_items_total{signal=%q,protocol=%q,reason=%q}`, m.signal, m.protocol, r)).Add(n)
}
