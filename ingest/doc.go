// Package ingest is Vigil's protocol edge: OTLP over gRPC and HTTP, Prometheus remote write,
// text-format import, and (later) JSON lines, Loki push and Zipkin. It decodes, validates and
// limits what arrives, answers bad input with a clear error and the right status
// (400/413/415/429, gRPC InvalidArgument/ResourceExhausted), counts every accepted and rejected
// item in vigil_ingest_* metrics, and hands the rest to a store through a narrow interface
// declared here, next to its use.
//
// It must not know how anything is stored: no file formats, no store types, only the
// consumer-side interfaces (for metrics, Prometheus's own storage.Appendable).
//
// Invariants:
//   - a 2xx (or gRPC OK) is sent only after the sink said the data is durable;
//   - a request that is too large is refused before it is decoded, and no decoder reads more
//     than the configured limit, compressed or not;
//   - the OTLP listeners are shared by all signals: a signal's service is registered on them
//     only once its store exists, so a client of a signal not stored gets the standard
//     gRPC Unimplemented / HTTP 404.
package ingest
