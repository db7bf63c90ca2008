// Package traces is Vigil's span store: durable under <data-dir>/traces, with every span of a
// trace in one range read, search by time window, service, span name, duration, status and
// attributes, the service and operation lists, retention by whole time ranges, and the span
// metrics (RED) and service-graph edges it derives from every span for the metrics store. Its
// HTTP handler serves the Jaeger query API and the trace page's API: a trace's span tree a
// few levels at a time from the span headers alone (tree.go), and one span in full.
//
// It owns its value types (traces.Span) and its directory. It must not know OTLP or Zipkin wire
// formats (the ingest package decodes them), HTTP routing outside its own Jaeger handler, or
// how the metrics store keeps the span metrics it hands over through MetricsAppendable
// (Prometheus's storage.AppendableV2, declared here). It imports no other Vigil package.
//
// # Storage
//
// One pebble (v2) database, format "vigil-traces-2" (format.go: a directory written in
// another format is refused at Open). Keys (see keys.go) start with the hour bucket of the
// span's start time:
//
//	's' hour traceID chunkID                      -> a chunk: the spans of one trace in one write (chunk_codec.go)
//	'r' hour hash                                 -> resource attributes, shared by every chunk of the hour
//	'x' hour 'S' service 0 start traceID chunkID  -> summary: durations, failed, Bloom filter of names and tags
//	'x' hour 'N' service 0 kind name              -> ""   (services, operations)
//
// A chunk stores what its spans repeat once (interned strings, parents as positions, times
// as offsets, the resource by hash), and 32 KiB zstd blocks remove what repeats across
// traces: about 90 bytes per span of bench/traces' load, index included. A trace is one
// short range per hour it has spans in (Trace visits only the hours that exist, known from
// the in-memory copy of the 'N' keys); spans of one trace written in many batches, minutes
// apart, land next to each other. A search reads one service's index range backwards
// (newest first), skips the entries whose summary rules it out, and checks the others
// against the trace's spans. Retention drops an hour with a DeleteRange per prefix and
// compacts the range; a size limit drops the oldest hours until the store fits.
//
// # Invariants
//
//   - WriteSpans returns nil only after its batch is committed to pebble's WAL with fsync
//     (pebble groups concurrent commits into one fsync): an acknowledged span survives
//     kill -9 and power loss. A retried batch rewrites the same keys; a span
//     stored twice (in two different batches) is read once: retries are idempotent.
//   - Readers see a consistent store: Close waits for in-flight reads and writes; every
//     method of a closed DB returns ErrClosed.
//   - Options.Observer (the Generator) sees each batch after it is durable, never before.
//   - The Generator's state is cumulative and bounded by GeneratorOptions.MaxSeries; a
//     failed flush loses nothing, the next one writes the totals again.
package traces
